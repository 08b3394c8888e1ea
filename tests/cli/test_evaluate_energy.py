"""`echemml evaluate` with an energy model: labelled frames in, energy and force errors out, bad input refused."""

from __future__ import annotations

import json

import ase.io
import pytest
from ase.build import molecule

from echemml.calculators import EChemCalculator
from echemml.cli import main
from echemml.io.labelled_frames import append_labelled_frames, labelled_frame
from echemml.model import build_model, load_model, save_model
from tests.model.fireann_model_checks import randomized, small_config


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A random energy model and a density model for H and O, as files, and two water frames labelled by the
    energy model itself (zero field and 0.4 V/Å)."""
    folder = tmp_path_factory.mktemp("evaluate_energy")
    save_model(randomized(build_model(small_config(species=(1, 8), n_iterations=1), "energy"), seed=1),
               folder / "energy.pt")
    save_model(randomized(build_model(small_config(species=(1, 8), n_iterations=1), "density"), seed=2),
               folder / "density.pt")
    model = load_model(folder / "energy.pt")
    frames = []
    for name, field in (("zero", (0.0, 0.0, 0.0)), ("field", (0.0, 0.0, 0.4))):
        atoms = molecule("H2O")
        atoms.info["external_field"] = field
        atoms.calc = EChemCalculator(potential=model)
        frames.append(labelled_frame(atoms, name, atoms.get_potential_energy(), atoms.get_forces(), 0, field))
    append_labelled_frames(folder / "frames.extxyz", frames)
    return folder


def evaluate(files, *options: str) -> int:
    return main(["evaluate", str(files / "energy.pt"), str(files / "frames.extxyz"), *options])


def test_json_report_gives_energy_per_atom_and_force_errors(files, capsys):
    assert evaluate(files, "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["frames"] == 2 and len(report["files"]) == 1
    assert report["energy_mae_meV_per_atom"] < 1e-3 and report["forces_mae_meV_per_A"] < 1e-3
    assert [row["field_V_per_A"] for row in report["by_field"]] == ["0", "0.25-0.5"]


def test_table_lists_each_file_each_field_bin_and_all_frames(files, capsys):
    assert evaluate(files) == 0
    out = capsys.readouterr().out
    assert "E MAE meV/atom" in out and "F RMSE meV/Å" in out
    assert str(files / "frames.extxyz") in out
    assert "|ε| 0 V/Å" in out and "|ε| 0.25-0.5 V/Å" in out and "all frames" in out


def test_plot_option_writes_the_parity_png(files, tmp_path, capsys):
    assert evaluate(files, "--plot", str(tmp_path / "parity.png")) == 0
    assert (tmp_path / "parity.png").stat().st_size > 1000
    assert f"wrote {tmp_path / 'parity.png'}" in capsys.readouterr().out


@pytest.mark.parametrize("option", [["--field", "0", "0", "0.1"], ["--reference", "zero.cube"]])
def test_field_and_reference_options_are_refused_for_an_energy_model(files, capsys, option):
    assert evaluate(files, *option) == 2
    err = capsys.readouterr().err
    assert f"{option[0]} is for density and response models" in err and err.count("\n") == 1


def test_a_cube_file_given_to_an_energy_model_exits_with_code_2(files, capsys):
    assert main(["evaluate", str(files / "energy.pt"), "runs/x.cube"]) == 2
    err = capsys.readouterr().err
    assert "runs/x.cube: an energy model is evaluated on labelled frames (extxyz with energy and forces)" in err
    assert err.count("\n") == 1


def test_frames_without_energy_and_forces_exit_with_code_2(files, tmp_path, capsys):
    ase.io.write(tmp_path / "bare.extxyz", molecule("H2O"), format="extxyz")
    assert main(["evaluate", str(files / "energy.pt"), str(tmp_path / "bare.extxyz")]) == 2
    err = capsys.readouterr().err
    assert "bare.extxyz: frame 0 has no energy and forces" in err and err.count("\n") == 1


def test_labelled_frames_given_to_a_density_model_exit_with_code_2(files, capsys):
    assert main(["evaluate", str(files / "density.pt"), str(files / "frames.extxyz")]) == 2
    err = capsys.readouterr().err
    assert "frames.extxyz: a density model is evaluated on density files (cube, CHGCAR)" in err
    assert err.count("\n") == 1
