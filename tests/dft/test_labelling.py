"""label_molecules: what an unconverged SCF leaves behind, and resuming a batch (real PySCF runs)."""

from __future__ import annotations

import json

import pytest
from ase.build import molecule

pytest.importorskip("pyscf")

from echemml.dft.labelling import LabelJob, label_molecules  # noqa: E402
from echemml.dft.pyscf import PySCFSettings  # noqa: E402
from echemml.io.candidates import CandidateStore  # noqa: E402

pytestmark = pytest.mark.dft


def test_an_unconverged_scf_leaves_a_failure_record_and_no_labels(tmp_path):
    job = LabelJob(settings=PySCFSettings(max_cycle=1, spacing=0.3), compute_forces=False, out=tmp_path / "out",
                   keep_candidates=True, random_points=20, ts_points=20)
    labels = list(label_molecules({"water": molecule("H2O")}, job, tmp_path / "labels.h5"))
    with CandidateStore(tmp_path / "labels.h5") as store:
        assert len(store) == 0
    assert [(label.name, label.converged) for label in labels] == [("water", False)]
    record = json.loads((tmp_path / "out" / "water.failed.json").read_text())
    assert record["error"] == "SCF did not converge"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["water.failed.json"]


def test_a_second_batch_labels_only_the_new_molecules(tmp_path):
    job = LabelJob(settings=PySCFSettings(spacing=0.3), compute_forces=False, keep_candidates=True,
                   random_points=20, ts_points=20)
    store = tmp_path / "labels.h5"
    first = [label.name for label in label_molecules({"water": molecule("H2O")}, job, store)]
    second = [label.name for label in label_molecules(
        {"water": molecule("H2O"), "ammonia": molecule("NH3")}, job, store)]
    assert first == ["water"] and second == ["ammonia"]
    with CandidateStore(store) as labels:
        assert labels.names() == ["ammonia", "water"]


def test_the_store_can_be_read_between_molecules_while_a_batch_runs(tmp_path):
    job = LabelJob(settings=PySCFSettings(spacing=0.3), compute_forces=False, keep_candidates=True,
                   random_points=20, ts_points=20)
    store = tmp_path / "labels.h5"
    seen = []
    for label in label_molecules({"water": molecule("H2O"), "ammonia": molecule("NH3")}, job, store):
        with CandidateStore(store) as labels:  # would raise "in use" if the batch held the file open
            seen.append((label.name, labels.names()))
    assert seen == [("water", ["water"]), ("ammonia", ["ammonia", "water"])]


def test_stored_candidates_carry_each_atoms_valence_charge(tmp_path):
    job = LabelJob(settings=PySCFSettings(spacing=0.3), compute_forces=False, keep_candidates=True,
                   random_points=20, ts_points=20)
    list(label_molecules({"water": molecule("H2O")}, job, tmp_path / "labels.h5"))
    with CandidateStore(tmp_path / "labels.h5") as labels:
        assert labels["water"].attrs["valence_charges"].tolist() == [6.0, 1.0, 1.0]


def test_a_response_label_is_the_field_minus_the_zero_field_density(tmp_path):
    job = LabelJob(settings=PySCFSettings(spacing=0.3), field=(0.0, 0.0, 0.5), compute_forces=False,
                   keep_candidates=True, random_points=20, ts_points=20, response=True)
    store = tmp_path / "labels.h5"
    (label,) = label_molecules({"water": molecule("H2O")}, job, store)
    assert label.converged and [c.name for c in label.candidates] == ["water", "water_response"]
    with CandidateStore(store) as labels:
        response = labels["water_response"]
        assert response.attrs["target"] == "response" and labels["water"].attrs["target"] == "density"
        assert abs(response.attrs["electrons_on_grid"]) < 1e-3  # the field moves charge, it makes none
        assert response.field.tolist() == [0.0, 0.0, 0.5]
    assert list(label_molecules({"water": molecule("H2O")}, job, store)) == []  # both stored: done


def test_a_response_label_in_zero_field_is_refused(tmp_path):
    job = LabelJob(settings=PySCFSettings(spacing=0.3), compute_forces=False, keep_candidates=True, response=True)
    with pytest.raises(ValueError, match="nonzero field"):
        list(label_molecules({"water": molecule("H2O")}, job, tmp_path / "labels.h5"))
