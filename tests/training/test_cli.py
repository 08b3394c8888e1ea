"""Command line: echemml train → evaluate (JSON), resume, bad input; echemml fit on real densities."""

from __future__ import annotations

import json

import pytest
import yaml
from test_evaluate import water_grid

from echemml.cli import main
from echemml.io import write_density
from echemml.training.log import read_log

TINY = ["--epochs", "2", "--batch-size", "2", "--quiet", "--threads", "1"]


def test_train_then_evaluate_json(toy_sample_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", str(toy_sample_file), "--out", str(out), *TINY]) == 0
    printed = capsys.readouterr().out
    assert "stopped    after epoch 2: epoch budget of 2 reached" in printed
    written = {p.name for p in out.iterdir()}
    assert written >= {"checkpoint.pt", "model.pt", "log.csv", "learning_curve.png", "config.yaml"}

    assert main(["train", str(toy_sample_file), "--out", str(out), "--resume", "--epochs", "3", "--quiet"]) == 0
    assert [row["epoch"] for row in read_log(out / "log.csv")] == [1, 2, 3]
    capsys.readouterr()

    cube = tmp_path / "water.cube"
    write_density(water_grid(), cube)
    assert main(["evaluate", str(out / "model.pt"), str(cube), "--json", "--plot", str(tmp_path / "p.png")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"files", "mean_nmae", "mean_rmse"}
    assert set(report["files"][0]) == {"file", "nmae", "rmse", "r2", "electrons_ref", "electrons_pred"}
    assert (tmp_path / "p.png").exists()

    assert main(["evaluate", str(out / "model.pt"), str(cube)]) == 0
    assert "NMAE %" in capsys.readouterr().out


def test_train_from_a_yaml_config(toy_sample_file, tmp_path, capsys):
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump({"samples": str(toy_sample_file), "model": {"n_radial": 4, "n_iterations": 1},
                                      "training": {"max_epochs": 1, "batch_size": 4}}))
    assert main(["train", str(config), "--out", str(tmp_path / "run"), "--loss", "mae", "--quiet"]) == 0
    written = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert written["model"]["n_radial"] == 4 and written["training"]["batch_size"] == 4
    assert written["training"]["loss"] == "mae"  # the option overrides the file


def test_bad_inputs_give_one_line_errors(toy_sample_file, tmp_path, capsys):
    assert main(["train", str(tmp_path / "missing.h5"), "--out", str(tmp_path / "x"), "--quiet"]) == 2
    assert "missing.h5: no such file" in capsys.readouterr().err
    assert main(["train", str(toy_sample_file), "--out", str(tmp_path / "none"), "--resume", "--quiet"]) == 2
    assert "no such checkpoint" in capsys.readouterr().err
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "checkpoint.pt").write_bytes(b"\x00garbage")
    assert main(["train", str(toy_sample_file), "--out", str(tmp_path / "bad"), "--resume", "--quiet"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "checkpoint.pt: corrupt or not an echemml training checkpoint" in error
    assert main(["train", str(toy_sample_file), "--head", "response", "--out", str(tmp_path / "r"), "--quiet"]) == 2
    assert "needs response targets" in capsys.readouterr().err


@pytest.mark.dft
def test_fit_runs_sampling_training_cycles(pyscf_grids, tmp_path, capsys):
    """Two cycles of TS+LIFS sampling (fresh, then trained features) and training on PySCF densities."""
    files = []
    for name in ("H2O", "NH3", "CH4"):
        files.append(str(tmp_path / f"{name}.cube"))
        write_density(pyscf_grids[name], files[-1])
    config = tmp_path / "fit.yaml"
    config.write_text(yaml.safe_dump({
        "model": {"species": [1, 6, 7, 8], "n_radial": 4, "n_iterations": 1, "readout_hidden": [16, 16]},
        "training": {"max_epochs": 3, "batch_size": 1, "threads": 1},
        "fit": {"cycles": 2, "inputs": files, "sampler": {"ts_points": 300, "lifs_threshold": 0.05}},
    }))
    assert main(["fit", str(config), "--out", str(tmp_path / "fit"), "--seed", "3", "--quiet"]) == 0
    assert "after 2 cycle(s)" in capsys.readouterr().out
    for cycle in (1, 2):
        assert (tmp_path / "fit" / f"cycle_{cycle}" / "train" / "model.pt").exists()
        written = yaml.safe_load((tmp_path / "fit" / f"cycle_{cycle}" / "train" / "config.yaml").read_text())
        assert written["training"]["seed"] == 3  # --seed overrides the configuration's
    from echemml.io.samples import SampleSet

    with SampleSet(tmp_path / "fit" / "cycle_2" / "samples.h5") as samples:
        assert len(samples) == 3 and all(0 < len(c.targets) < 300 for c in samples)
    # rerunning finds both cycles done
    assert main(["fit", str(config), "--out", str(tmp_path / "fit"), "--quiet"]) == 0


def test_init_member_warm_starts_from_that_member_of_a_committee(toy_sample_file, tmp_path, capsys):
    """--init COMMITTEE --member K starts from member K's weights (an lr of 1e-12 leaves them as they were)."""
    import torch

    from echemml.model import load_model

    for seed in (1, 2):
        assert main(["train", str(toy_sample_file), "--out", str(tmp_path / f"m{seed}"), "--seed", str(seed), *TINY]) == 0
    assert main(["committee", str(tmp_path / "m1" / "model.pt"), str(tmp_path / "m2" / "model.pt"),
                 "-o", str(tmp_path / "c.pt")]) == 0
    assert main(["train", str(toy_sample_file), "--init", str(tmp_path / "c.pt"), "--member", "2", "--lr", "1e-12",
                 "--out", str(tmp_path / "warm"), *TINY]) == 0
    warm = load_model(tmp_path / "warm" / "model.pt").state_dict()
    member = {seed: load_model(tmp_path / f"m{seed}" / "model.pt").state_dict() for seed in (1, 2)}
    weights = [key for key in warm if warm[key].is_floating_point()]
    assert all(torch.allclose(warm[key], member[2][key], atol=1e-6) for key in weights)
    assert not all(torch.allclose(warm[key], member[1][key], atol=1e-6) for key in weights)
    capsys.readouterr()
    assert main(["train", str(toy_sample_file), "--init", str(tmp_path / "c.pt"), "--member", "3",
                 "--out", str(tmp_path / "x"), "--quiet"]) == 2
    assert "c.pt: has members 1–2, not 3" in capsys.readouterr().err
    assert main(["train", str(toy_sample_file), "--member", "1", "--out", str(tmp_path / "y"), "--quiet"]) == 2
    assert "give --init MODEL too" in capsys.readouterr().err
