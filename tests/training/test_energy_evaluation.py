"""Energy-model evaluation on labelled frames: errors per atom and per force component, by file and by field."""

from __future__ import annotations

import ase.io
import numpy as np
import pytest
from ase import Atoms
from ase.build import molecule

from echemml.calculators import EChemCalculator
from echemml.errors import EchemmlError, InputFileError
from echemml.io.labelled_frames import append_labelled_frames, labelled_frame
from echemml.model import CommitteeModel, build_model, predict_energy
from echemml.training.energy_evaluation import evaluate_energy, field_bin
from tests.model.fireann_model_checks import randomized, small_config


def energy_model(seed: int = 1):
    """A small untrained energy model for H and O with random weights (non-zero forces)."""
    return randomized(build_model(small_config(species=(1, 8), n_iterations=1), "energy"), seed=seed)


def zundel() -> Atoms:
    """H5O2+ (7 atoms, charge +1) near its C2 geometry, Å."""
    return Atoms("O2H5", positions=[(-1.2, 0, 0), (1.2, 0, 0), (0.05, 0, 0), (-1.61, 0.79, 0.39),
                                    (-1.61, -0.79, 0.39), (1.61, 0.39, 0.79), (1.61, 0.39, -0.79)])


def self_labelled(model, atoms, name, charge=0, field=(0.0, 0.0, 0.0), energy_shift=0.0, forces_shift=None):
    """A frame labelled with the model's own prediction (eV, eV/Å), optionally shifted."""
    atoms = atoms.copy()
    atoms.info.update(charge=charge, external_field=np.asarray(field, dtype=float))
    atoms.calc = EChemCalculator(potential=model)
    forces = atoms.get_forces() + (0.0 if forces_shift is None else forces_shift)
    return labelled_frame(atoms, name, atoms.get_potential_energy() + energy_shift, forces, charge, field)


def test_frames_labelled_by_the_model_itself_have_zero_error_including_a_charged_frame_in_a_field(tmp_path):
    """The charged H5O2+ in 0.1 V/Å only agrees if the −Qε·R term is predicted as the label had it."""
    model = energy_model()
    path = tmp_path / "frames.extxyz"
    append_labelled_frames(path, [self_labelled(model, molecule("H2O"), "water"),
                                  self_labelled(model, zundel(), "zundel", charge=1, field=(0.0, 0.05, 0.1))])
    report = evaluate_energy(model, [path])
    assert report["frames"] == 2
    assert report["energy_mae_meV_per_atom"] < 1e-3 and report["forces_mae_meV_per_A"] < 1e-3


def test_a_label_70_meV_above_the_prediction_on_a_7_atom_frame_is_a_10_meV_per_atom_error(tmp_path):
    model = energy_model()
    path = tmp_path / "frames.extxyz"
    append_labelled_frames(path, [self_labelled(model, zundel(), "zundel", charge=1, energy_shift=0.07)])
    report = evaluate_energy(model, [path])
    assert report["energy_mae_meV_per_atom"] == pytest.approx(10.0, abs=1e-6)
    assert report["energy_rmse_meV_per_atom"] == pytest.approx(10.0, abs=1e-6)


def test_overall_errors_pool_the_frames_and_force_components_of_every_file(tmp_path):
    """Energy: 10 and 0 meV/atom over two frames → MAE 5; forces: one component off by 90 meV/Å among 30 → MAE 3."""
    model = energy_model()
    off = np.zeros((3, 3))
    off[1, 2] = 0.09  # eV/Å
    append_labelled_frames(tmp_path / "a.extxyz", [self_labelled(model, zundel(), "z", charge=1, energy_shift=0.07)])
    append_labelled_frames(tmp_path / "b.extxyz", [self_labelled(model, molecule("H2O"), "w", forces_shift=off)])
    report = evaluate_energy(model, [tmp_path / "a.extxyz", tmp_path / "b.extxyz"])
    assert [row["file"] for row in report["files"]] == [str(tmp_path / "a.extxyz"), str(tmp_path / "b.extxyz")]
    assert report["files"][1]["forces_mae_meV_per_A"] == pytest.approx(90.0 / 9, abs=1e-4)
    assert report["energy_mae_meV_per_atom"] == pytest.approx(5.0, abs=1e-6)
    assert report["energy_rmse_meV_per_atom"] == pytest.approx(np.sqrt(50.0), abs=1e-6)
    assert report["forces_mae_meV_per_A"] == pytest.approx(3.0, abs=1e-4)
    assert report["forces_rmse_meV_per_A"] == pytest.approx(np.sqrt(90.0**2 / 30), abs=1e-4)


def test_frames_in_zero_weak_and_moderate_fields_land_in_three_field_bins(tmp_path):
    model = energy_model()
    path = tmp_path / "frames.extxyz"
    append_labelled_frames(path, [
        self_labelled(model, molecule("H2O"), "zero"),
        self_labelled(model, molecule("H2O"), "weak", field=(0.0, 0.0, 0.1), energy_shift=0.03),
        self_labelled(model, zundel(), "moderate", charge=1, field=(0.4, 0.0, 0.0)),
    ])
    rows = evaluate_energy(model, [path])["by_field"]
    assert [(row["field_V_per_A"], row["frames"]) for row in rows] == [("0", 1), ("0-0.25", 1), ("0.25-0.5", 1)]
    assert rows[1]["energy_mae_meV_per_atom"] == pytest.approx(10.0, abs=1e-6)  # 30 meV over 3 atoms
    assert rows[0]["energy_mae_meV_per_atom"] < 1e-3 and rows[2]["energy_mae_meV_per_atom"] < 1e-3


def test_field_bins_are_zero_then_half_open_up_to_their_upper_edge():
    assert field_bin(0.0) == "0"
    assert field_bin(1e-9) == field_bin(0.25) == "0-0.25"
    assert field_bin(0.2500001) == field_bin(0.5) == "0.25-0.5"
    assert field_bin(0.51) == ">0.5"


def test_a_committee_reports_its_mean_spread_and_a_single_model_does_not(tmp_path):
    committee = CommitteeModel([energy_model(1), energy_model(5)])
    path = tmp_path / "frames.extxyz"
    append_labelled_frames(path, [self_labelled(committee, zundel(), "zundel", charge=1, field=(0.0, 0.0, 0.2))])
    report = evaluate_energy(committee, [path])
    by_hand = predict_energy(committee, zundel(), field=(0.0, 0.0, 0.2))
    assert report["energy_std_mean_meV_per_atom"] == pytest.approx(1000 * by_hand["energy_std"] / 7, rel=1e-9)
    assert report["forces_std_mean_meV_per_A"] == pytest.approx(1000 * by_hand["forces_std"].mean(), rel=1e-9)
    assert report["energy_std_mean_meV_per_atom"] > 0
    assert "energy_std_mean_meV_per_atom" not in evaluate_energy(energy_model(1), [path])


def test_the_parity_plot_is_written(tmp_path):
    model = energy_model()
    path = tmp_path / "frames.extxyz"
    append_labelled_frames(path, [self_labelled(model, molecule("H2O"), "w", energy_shift=0.01),
                                  self_labelled(model, zundel(), "z", charge=1, field=(0.0, 0.0, 0.3))])
    evaluate_energy(model, [path], parity_plot=tmp_path / "parity.png")
    assert (tmp_path / "parity.png").stat().st_size > 1000


def test_a_density_file_given_to_an_energy_model_is_refused_by_name(tmp_path):
    with pytest.raises(EchemmlError, match=r"x\.cube: an energy model is evaluated on labelled frames"):
        evaluate_energy(energy_model(), [tmp_path / "x.cube"])


def test_frames_without_energy_and_forces_raise_an_input_file_error(tmp_path):
    path = tmp_path / "bare.extxyz"
    ase.io.write(path, molecule("H2O"), format="extxyz")
    with pytest.raises(InputFileError, match="no energy and forces"):
        evaluate_energy(energy_model(), [path])
