"""`echemml response`: Fig. 6 numbers from a response model on a slab (a small model trained on CP2K Δn)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from echemml import read_density
from echemml.cli import main
from echemml.io.samples import SampleSet
from echemml.model import build_model, preset_config, save_model
from echemml.sampling.driver import SamplerSettings, sample_source, sources_from_paths
from echemml.training import Config, Trainer
from tests.conftest import DATA

AU = DATA / "cp2k_au100"
FIELD = ["0", "0", "-1"]


@pytest.fixture(scope="module")
def response_model(tmp_path_factory):
    """A small response model trained briefly on the CP2K Au(100) Δn at E_z = −1 V/Å."""
    folder = tmp_path_factory.mktemp("response")
    source = sources_from_paths([AU / "au100_fieldm1.cube.gz"], [AU / "au100_field0.cube.gz"], field=(0, 0, -1))[0]
    with SampleSet(folder / "samples.h5", "a") as samples:
        for seed in range(2):
            samples.append(sample_source(source, SamplerSettings(method="ts", n_points=400, ts_sigma=300.0,
                                                                 uniform_fraction=0.3, seed=seed)))
    config = Config()
    config.head = "response"
    config.model.species = [79]
    config.model.cutoff, config.model.n_radial, config.model.n_iterations = 5.0, 6, 1
    config.training.max_epochs, config.training.lr, config.training.batch_size = 60, 5e-3, 2
    config.training.threads = 1
    Trainer(config, folder / "samples.h5", folder / "run", progress_bar=False).train()
    return folder / "run" / "model.pt"


def test_json_holds_the_slab_numbers_and_zero_net_charge(response_model, tmp_path, capsys):
    out = tmp_path / "dn.cube"
    assert main(["response", str(response_model), str(AU / "au100_field0.cube.gz"), "--field", *FIELD,
                 "--json", "-o", str(out), "--plot", str(tmp_path / "fig6.png")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"transfer_e", "left_e", "right_e", "net_e", "esp_drop_V", "esp_slope_inside_V_per_A"} <= set(result)
    assert read_density(out).integral() == pytest.approx(0.0, abs=1e-6)
    assert result["net_e"] == pytest.approx(0.0, abs=1e-6)
    assert (tmp_path / "fig6.png").stat().st_size > 10_000


def test_trained_model_moves_charge_the_way_cp2k_does(response_model, capsys):
    assert main(["response", str(response_model), str(AU / "au100_field0.cube.gz"), "--field", *FIELD,
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    # CP2K on this slab: 0.1925 e moved to the upper face (tests/analysis/test_cp2k_au_response.py)
    assert result["right_e"] > 0 > result["left_e"]
    assert result["transfer_e"] == pytest.approx(0.1925, rel=0.5)


def test_a_density_model_is_refused(tmp_path, capsys):
    torch.manual_seed(0)
    path = tmp_path / "density.pt"
    save_model(build_model(preset_config("qm9", [79])), path)
    assert main(["response", str(path), str(AU / "au100_field0.cube.gz"), "--field", *FIELD]) == 2
    assert "needs a response model" in capsys.readouterr().err


def test_structure_input_gets_a_grid_spanning_the_slab_cell(response_model, tmp_path, capsys):
    from ase.build import fcc100

    slab = fcc100("Au", size=(2, 2, 3), vacuum=8.0)
    slab.pbc = [True, True, False]
    slab.write(tmp_path / "slab.xyz")
    assert main(["response", str(response_model), str(tmp_path / "slab.xyz"), "--field", *FIELD,
                 "--spacing", "0.25", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert np.isfinite(result["transfer_e"])


def test_threads_option_sets_torchs_thread_count(response_model, torch_threads, capsys):
    torch.set_num_threads(2)
    assert main(["response", str(response_model), str(AU / "au100_field0.cube.gz"), "--field", *FIELD,
                 "--json", "--threads", "1"]) == 0
    assert torch.get_num_threads() == 1
    assert np.isfinite(json.loads(capsys.readouterr().out)["transfer_e"])


def test_zero_threads_is_refused(response_model, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["response", str(response_model), str(AU / "au100_field0.cube.gz"), "--field", *FIELD, "--threads", "0"])
    assert stopped.value.code == 2
    assert "--threads: 0: must be at least 1" in capsys.readouterr().err
