"""``echemml predict`` on density files and structure files."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import fcc100
from ase.io import write
from tests.model.fireann_model_checks import ethanol, randomized, small_config

from echemml.cli import main
from echemml.grid import DensityGrid
from echemml.io import read_density, write_density
from echemml.model import build_model, predict_grid, save_model


@pytest.fixture
def model_file(tmp_path):
    model = randomized(build_model(small_config(), "density"), seed=6)
    path = tmp_path / "density.pt"
    save_model(model, path)
    return path, model


def test_predict_on_the_grid_of_a_density_file(tmp_path, model_file, capsys):
    path, model = model_file
    atoms = ethanol()
    grid = DensityGrid(atoms, np.zeros((20, 18, 16)), origin=atoms.positions.min(0) - 3, voxel=np.eye(3) * 0.45)
    write_density(grid, tmp_path / "in.cube")
    out = tmp_path / "out.cube"
    assert main(["predict", str(path), str(tmp_path / "in.cube"), "-o", str(out), "--field", "0", "0", "0.1"]) == 0
    written = read_density(out)
    expected = predict_grid(model, read_density(tmp_path / "in.cube"), field=[0, 0, 0.1])
    assert written.shape == grid.shape
    np.testing.assert_allclose(written.values, expected.values, rtol=1e-4, atol=1e-6 * np.abs(expected.values).max())
    printed = capsys.readouterr().out
    assert f"{expected.integral():.3f}"[:5] in printed and "electrons" in printed


def test_predict_on_a_structure_file(tmp_path, model_file, capsys):
    path, _ = model_file
    write(tmp_path / "ethanol.xyz", ethanol())
    out = tmp_path / "out.cube"
    assert main(["predict", str(path), str(tmp_path / "ethanol.xyz"), "-o", str(out), "--spacing", "0.4", "--margin", "2", "--float64"]) == 0
    written = read_density(out)
    np.testing.assert_allclose(written.spacing, 0.4, atol=1e-6)
    atoms = ethanol()
    assert np.all(written.origin <= atoms.positions.min(0) - 2 + 1e-6)
    assert "electrons" in capsys.readouterr().out


def test_predict_on_a_periodic_structure_spans_the_cell(tmp_path, model_file):
    path, _ = model_file
    write(tmp_path / "POSCAR", fcc100("Au", (2, 2, 2), vacuum=4.0), format="vasp")
    out = tmp_path / "slab.cube"
    assert main(["predict", str(path), str(tmp_path / "POSCAR"), "-o", str(out), "--spacing", "0.5"]) == 0
    written = read_density(out)
    assert np.all(written.periodic[:2])


def test_bad_inputs_are_one_line_errors(tmp_path, model_file, capsys):
    path, _ = model_file
    assert main(["predict", "no-such-model", str(tmp_path / "x.xyz"), "-o", str(tmp_path / "o.cube")]) == 2
    assert "shipped models" in capsys.readouterr().err
    (tmp_path / "junk.dat").write_text("nothing useful\n")
    assert main(["predict", str(path), str(tmp_path / "junk.dat"), "-o", str(tmp_path / "o.cube")]) == 2
    assert "junk.dat" in capsys.readouterr().err
