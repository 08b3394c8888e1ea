"""echemml learn with CP2K as the labeller: a tiny Au(100) slab moved by EMT in −1 V/Å (needs cp2k.psmp).

The loop of test_active_learning.py on a slab: ASE's EMT drives the MD (``models.energy: emt``,
a universal potential, never retrained), the shipped ``au100-density`` scores the frames'
novelty, CP2K labels the candidate — its zero-field density and Δn in the MD's field, as
compact labels — and both au100-density and one member of ``au100-response`` are sampled and
retrained on them (EMT, no echemml model, is not). The slab is 1×1 and two layers (two Au atoms, 8 Å of vacuum) and CP2K runs
the cheap recipe of tests/dft/test_cp2k_slab_gauss.py (200 Ry, Γ; about 10 s an SCF): the test
checks the bookkeeping of a CP2K-labelled loop, not what the models learn. Starting data: one
2×2 three-layer slab of data/au100_response_mt.h5 per head (200 TS points).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import ase.io
import pytest
import yaml
from ase.build import fcc100

from echemml import keys
from echemml.cli import main
from echemml.io.candidates import CandidateStore
from echemml.io.samples import SampleSet
from echemml.model import committee_member, load_model, save_model
from echemml.protocols import ActiveLearning, load_settings

pytestmark = [
    pytest.mark.dft, pytest.mark.slow, pytest.mark.ci,
    pytest.mark.skipif(shutil.which("cp2k.psmp") is None, reason="CP2K not installed (apt-get install cp2k)"),
]

DATA = Path(__file__).resolve().parents[2] / "data"
TINY_CP2K = {"cutoff": 200.0, "rel_cutoff": 30.0, "added_mos": 10, "threads": 1}


def sampled(names: str, out: Path) -> Path:
    assert main(["sample", "--candidates", str(DATA / "au100_response_mt.h5"), "--names", names, "--method", "ts",
                 "--n-points", "200", "--ts-sigma", "300", "--uniform-fraction", "0.5", "--seed", "0",
                 "--workers", "1", "-o", str(out), "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def slab_run(tmp_path_factory) -> tuple[Path, object]:
    folder = tmp_path_factory.mktemp("cp2k_learning")
    slab = fcc100("Au", size=(1, 1, 2), a=4.08, vacuum=8.0)
    slab.pbc = (True, True, False)
    ase.io.write(folder / "slab.extxyz", slab, format="extxyz")
    response = folder / "response_member1.pt"
    member = committee_member(load_model("au100-response"), 1)
    save_model(member, response, metadata=member.metadata)
    settings = {
        "structure": {"file": str(folder / "slab.extxyz")},
        "models": {"energy": "emt", "density": "au100-density", "response": str(response)},
        "data": {"density": [str(sampled("train_L3_0_E0", folder / "density_samples.h5"))],
                 "response": [str(sampled("train_L3_0_Ez-1.00", folder / "response_samples.h5"))]},
        "md": {"temperature": 300, "timestep": 2.0, "steps": 10, "field": [0, 0, -1], "seed": 3},
        "selection": {"every": 5, "signal": "novelty", "lo": 0.0, "hi": 1.0, "max_labels": 1, "ghost_points": 20},
        "dft": {"engine": "cp2k", "cp2k": TINY_CP2K, "random_points": 100, "ts_points": 100},
        "retrain": {"after": 1, "epochs": 1, "lr": 1e-5},
        "budget": {"dft_calls": 1},
    }
    (folder / "learn.yaml").write_text(yaml.safe_dump(settings))
    run = folder / "run"
    record = ActiveLearning(load_settings(folder / "learn.yaml"), run, progress_bar=False, echo=lambda line: None).run()
    return run, record


def test_cp2k_labels_the_candidate_in_zero_field_and_in_the_mds_field(slab_run):
    run, record = slab_run
    assert [(job["name"], job["status"]) for job in record.jobs] == [("al_step000005", "done")]
    assert record.stop_reason == "DFT budget of 1 calls spent"
    with CandidateStore(run / "data" / "labels.h5") as store:
        names = store.names()
        targets = {name: store[name].attrs["target"] for name in names}
    assert targets == {"al_step000005_E0": keys.DENSITY, "al_step000005_Ez-1.00": keys.RESPONSE}


def test_both_heads_are_sampled_and_retrained_on_the_new_labels(slab_run):
    run, record = slab_run
    (retraining,) = record.retrainings
    assert retraining["new_samples"] == {keys.DENSITY: 1, keys.RESPONSE: 1}
    assert sorted(retraining["heads"]) == [keys.DENSITY, keys.RESPONSE]
    for head in (keys.DENSITY, keys.RESPONSE):
        with SampleSet(run / "data" / head / f"{head}_samples.h5") as samples:
            assert len(samples) == 2  # the starting slab and the labelled frame
        assert load_model(run / "models" / "iter_001" / f"{head}.pt").head == head
    assert record.models == {head: f"models/iter_001/{head}.pt" for head in (keys.DENSITY, keys.RESPONSE)}
    assert (run / "models" / "iter_001" / "novelty.h5").exists()  # the basis of the grown density data
