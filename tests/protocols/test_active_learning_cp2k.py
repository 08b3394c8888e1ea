"""echemml learn with CP2K as the labeller: a tiny Au(100) slab moved by EMT in −1 V/Å (needs cp2k.psmp).

The loop of test_active_learning.py on a slab (tests/protocols/slab_learning.py): ASE's EMT
drives the MD (``models.energy: emt``, a universal potential, never retrained), CP2K labels
the candidate — its zero-field density and Δn in the MD's field, as compact labels — and
both au100-density and one member of ``au100-response`` are sampled and retrained on them.
CP2K runs the cheap recipe of tests/dft/test_cp2k_slab_gauss.py (200 Ry, Γ; about 10 s an
SCF): the test checks the bookkeeping of a CP2K-labelled loop, not what the models learn.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.protocols.slab_learning import write_slab_settings

from echemml import keys
from echemml.io.candidates import CandidateStore
from echemml.io.samples import SampleSet
from echemml.model import load_model
from echemml.protocols import ActiveLearning, load_settings

pytestmark = [
    pytest.mark.dft, pytest.mark.slow, pytest.mark.ci,
    pytest.mark.skipif(shutil.which("cp2k.psmp") is None, reason="CP2K not installed (apt-get install cp2k)"),
]

TINY_CP2K = {"cutoff": 200.0, "rel_cutoff": 30.0, "added_mos": 10, "threads": 1}


@pytest.fixture(scope="module")
def slab_run(tmp_path_factory) -> tuple[Path, object]:
    folder = tmp_path_factory.mktemp("cp2k_learning")
    config = write_slab_settings(folder, {"engine": "cp2k", "cp2k": TINY_CP2K})
    run = folder / "run"
    record = ActiveLearning(load_settings(config), run, progress_bar=False, echo=lambda line: None).run()
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
