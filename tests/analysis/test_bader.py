"""Bader charges: analytic split of two Gaussians, both engines on real O–H densities, CLI.

Reference numbers without a literature source were measured here with baderkit
0.10.2 and pybader 0.3.12 (method "neargrid" in both) on the fixtures named in
each test; they pin the engines' behaviour, not a physical truth.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import ase
import numpy as np
import pytest

from echemml import DensityGrid
from echemml.analysis.bader import bader_charges
from echemml.cli import main
from echemml.errors import EchemmlError
from tests.conftest import CP2K_WATER_CUBE

BACKENDS = ["baderkit", "pybader"]
WATER_VALENCE = {"O": 6, "H": 1}


def _needs(backend: str) -> None:
    """Skip unless the backend imports."""
    pytest.importorskip("baderkit.bader" if backend == "baderkit" else "pybader.interface")


# ------------------------------------------------------------- two Gaussians
def _two_gaussians(periodic: bool, electrons: float = 2.0, sigma: float = 0.4) -> DensityGrid:
    """Two He 'atoms' 2 Å apart, each a normalised Gaussian of ``electrons`` e (σ in Å).

    The grid is mirror-symmetric about the plane between the atoms and no grid
    point lies on that plane, so the exact Bader split is ``electrons`` each.
    Periodic: a 7×5×5 Å cell spanned by the grid (55 points along x, odd, so
    only the far plane x = 0, 2.5 Å from both atoms, holds mirror-invariant
    points). Molecular: a box with origin (−3.5, −2.5, −2.5) Å and 56 points
    along x, centred on the midpoint.
    """
    if periodic:
        shape, lengths = (55, 40, 40), np.array([7.0, 5.0, 5.0])
        voxel = np.diag(lengths / np.array(shape))
        origin = np.zeros(3)
        centres = np.array([[2.5, 2.5, 2.5], [4.5, 2.5, 2.5]])
        atoms = ase.Atoms("He2", positions=centres, cell=np.diag(lengths), pbc=True)
    else:
        shape, origin = (56, 40, 40), np.array([-3.5, -2.5, -2.5])
        voxel = np.diag([7.0 / 55, 5.0 / 39, 5.0 / 39])
        centres = np.array([[-1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
        atoms = ase.Atoms("He2", positions=centres, pbc=False)
    grid = DensityGrid(atoms, np.zeros(shape), origin, voxel)
    points = grid.points()
    values = np.zeros(len(points))
    for centre in centres:
        delta = points - centre
        if periodic:
            delta -= np.round(delta / lengths) * lengths  # nearest image
        values += np.exp(-(delta**2).sum(axis=1) / (2 * sigma**2))
    values *= electrons / (2 * np.pi * sigma**2) ** 1.5
    return grid.with_values(values.reshape(shape))


@pytest.mark.parametrize("periodic", [True, False], ids=["periodic", "molecular"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_two_gaussians_split_evenly_by_symmetry(backend, periodic):
    _needs(backend)
    grid = _two_gaussians(periodic)
    result = bader_charges(grid, backend=backend, valence={"He": 2})
    np.testing.assert_allclose(result.electrons, [2.0, 2.0], atol=1e-2)
    np.testing.assert_allclose(result.charges, [0.0, 0.0], atol=1e-2)
    assert result.maxima.tolist() == [1, 1]
    assert result.total_electrons == pytest.approx(grid.integral(), abs=1e-3)


# ------------------------------------------------ an H bonded to O: no basin or one
@pytest.fixture(scope="module")
def cp2k_water_bader(cp2k_water):
    """Both engines on the CP2K water cube (valence 8 e, periodic 5.5 Å box)."""
    for backend in BACKENDS:
        _needs(backend)
    return {
        backend: bader_charges(cp2k_water, backend=backend, valence=WATER_VALENCE) for backend in BACKENDS
    }


def test_default_backend_gives_oh_hydrogens_no_basin(cp2k_water):
    # the paper's Fig. 9 behaviour: the O–H hydrogens' valence density has only a
    # shallow maximum that baderkit merges into the O basin (persistence < 0.05)
    _needs("baderkit")
    result = bader_charges(cp2k_water, valence=WATER_VALENCE)
    assert result.backend == "baderkit"
    assert result.maxima.tolist() == [2, 0, 0]
    np.testing.assert_allclose(result.electrons, [8.0, 0.0, 0.0], atol=1e-3)


def test_pybader_gives_oh_hydrogens_a_basin_on_cp2k_water(cp2k_water_bader):
    # measured: pybader keeps the shallow maxima next to the protons: H 0.42 e, O 7.155 e
    result = cp2k_water_bader["pybader"]
    assert np.all(result.maxima[1:] >= 1)
    np.testing.assert_allclose(result.electrons, [7.155, 0.4225, 0.4224], atol=5e-3)


def test_backends_partition_the_same_electrons_on_cp2k_water(cp2k_water_bader, cp2k_water):
    totals = [result.total_electrons for result in cp2k_water_bader.values()]
    np.testing.assert_allclose(totals, cp2k_water.integral(), atol=1e-4)


# -------------------------------------------------------- real PySCF molecules
@pytest.fixture(scope="module")
def pyscf_methanol():
    """PySCF GTH-PBE valence density of methanol on a 0.15 Å grid, 3.5 Å margin."""
    pytest.importorskip("pyscf")
    from ase.build import molecule

    from echemml.dft.pyscf import PySCFSettings, run_pyscf

    settings = PySCFSettings(spacing=0.15, margin=3.5)
    return run_pyscf(molecule("CH3OH"), settings=settings, compute_forces=False).grid


@pytest.fixture(scope="module")
def pyscf_water_fine():
    """PySCF GTH-PBE valence density of water on a 0.1 Å grid, 3.5 Å margin."""
    pytest.importorskip("pyscf")
    from ase.build import molecule

    from echemml.dft.pyscf import PySCFSettings, run_pyscf

    settings = PySCFSettings(spacing=0.1, margin=3.5)
    return run_pyscf(molecule("H2O"), settings=settings, compute_forces=False).grid


@pytest.mark.dft
def test_backends_agree_on_methanol_atoms_that_own_a_maximum(pyscf_methanol):
    # measured: C 3.486/3.503, O 7.721/7.721, H 0.877/0.877, 0.919/0.919, 0.998/0.980 e
    # (baderkit/pybader); the largest difference, 0.017 e, is C and one methyl H
    for backend in BACKENDS:
        _needs(backend)
    kit, py = (bader_charges(pyscf_methanol, backend=backend) for backend in BACKENDS)
    assert kit.maxima.tolist() == py.maxima.tolist() == [3, 2, 1, 0, 1, 1]
    owners = kit.maxima > 0
    np.testing.assert_allclose(kit.electrons[owners], py.electrons[owners], atol=0.02)


@pytest.mark.dft
def test_methanol_hydroxyl_hydrogen_owns_no_maximum_at_015(pyscf_methanol):
    # on the 0.15 Å grid neither engine resolves the maximum next to the O–H proton
    for backend in BACKENDS:
        _needs(backend)
        result = bader_charges(pyscf_methanol, backend=backend)
        assert result.symbols[3] == "H" and result.maxima[3] == 0
        assert result.electrons[3] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.dft
def test_pybader_resolves_one_water_hydrogen_maximum_at_01(pyscf_water_fine):
    # measured on the 0.1 Å grid, whose points are not mirror-symmetric about the
    # molecule: pybader finds the shallow maximum at one H only (0.252 e), baderkit
    # merges both into the O basin (persistence 0.044 < 0.05)
    for backend in BACKENDS:
        _needs(backend)
    kit, py = (bader_charges(pyscf_water_fine, backend=backend) for backend in BACKENDS)
    np.testing.assert_allclose(kit.electrons, [8.0, 0.0, 0.0], atol=1e-3)
    np.testing.assert_allclose(sorted(py.electrons[1:]), [0.0, 0.252], atol=0.01)
    assert py.electrons[0] == pytest.approx(8.0 - py.electrons[1:].sum(), abs=1e-3)


@pytest.mark.dft
@pytest.mark.parametrize("backend", BACKENDS)
def test_pyscf_water_o_negative_h_positive_neutral(pyscf_water, backend):
    # Z_val from the grid's GTH valences (O 6, H 1); measured: O −2.000, H +1.000 with
    # both engines on this 0.15 Å grid (no H maximum resolved)
    _needs(backend)
    result = bader_charges(pyscf_water.grid, backend=backend)
    assert result.valence.tolist() == [6.0, 1.0, 1.0]
    assert result.charges[0] < 0 and np.all(result.charges[1:] > 0)
    assert result.charges.sum() == pytest.approx(0.0, abs=1e-3)


# -------------------------------------------------------------- valence counts
def test_valence_falls_back_to_gth_pbe_when_the_cube_lists_zeros(cp2k_water):
    pytest.importorskip("pyscf")
    _needs("baderkit")
    assert bader_charges(cp2k_water).valence.tolist() == [6.0, 1.0, 1.0]


def test_valence_for_a_missing_element_is_an_error(cp2k_water):
    with pytest.raises(EchemmlError, match="no valence electron count given for H"):
        bader_charges(cp2k_water, valence={"O": 6})


# ------------------------------------------------------------------ isolation
@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_writes_prints_and_logs_nothing(cp2k_water, backend, capfd):
    _needs(backend)
    root = logging.getLogger()
    handlers, files = list(root.handlers), sorted(os.listdir(os.getcwd()))
    bader_charges(cp2k_water, backend=backend, valence=WATER_VALENCE)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert sorted(os.listdir(os.getcwd())) == files
    assert root.handlers == handlers


@pytest.mark.parametrize(
    "backend, modules, extra",
    [
        ("baderkit", ["baderkit", "baderkit.bader", "baderkit.toolkit"], "echemml[bader]"),
        ("pybader", ["pybader", "pybader.interface"], "echemml[pybader]"),
    ],
)
def test_missing_backend_names_the_extra(cp2k_water, monkeypatch, backend, modules, extra):
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)  # None in sys.modules: the import fails
    with pytest.raises(EchemmlError, match=extra.replace("[", r"\[").replace("]", r"\]")):
        bader_charges(cp2k_water, backend=backend, valence=WATER_VALENCE)


def test_unknown_backend_is_an_error(cp2k_water):
    with pytest.raises(EchemmlError, match="unknown Bader backend"):
        bader_charges(cp2k_water, backend="henkelman", valence=WATER_VALENCE)


# ------------------------------------------------------------------------ CLI
def test_cli_json_has_file_backend_atoms_and_totals(capsys):
    _needs("baderkit")
    assert main(["bader", str(CP2K_WATER_CUBE), "--valence", "O=6", "H=1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"file", "backend", "atoms", "total_electrons", "vacuum_electrons"} <= set(report)
    assert report["backend"] == "baderkit" and report["file"] == str(CP2K_WATER_CUBE)
    for atom in report["atoms"]:
        assert {"index", "symbol", "electrons", "charge", "volume"} <= set(atom)
    assert [atom["symbol"] for atom in report["atoms"]] == ["O", "H", "H"]
    assert report["total_electrons"] == pytest.approx(8.0, abs=1e-3)


def test_cli_table_lists_each_atom_and_the_totals(capsys):
    _needs("baderkit")
    assert main(["bader", str(CP2K_WATER_CUBE), "--valence", "O=6", "H=1"]) == 0
    out = capsys.readouterr().out
    assert "electrons" in out and "volume" in out and "total electrons  8.0000 e" in out
    rows = [line.split()[:2] for line in out.splitlines()]
    assert ["0", "O"] in rows and ["1", "H"] in rows and ["2", "H"] in rows


@pytest.mark.parametrize("content", [None, "hello world\nnot a grid\nat all\n"], ids=["missing", "garbled"])
def test_cli_bad_file_gives_one_line_and_exit_code_2(tmp_path, content):
    path = tmp_path / "density.cube"
    if content is not None:
        path.write_text(content)
    completed = subprocess.run(
        [sys.executable, "-m", "echemml", "bader", str(path)], capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 2
    assert completed.stderr.startswith("echemml: error:") and len(completed.stderr.strip().splitlines()) == 1
    assert completed.stdout == ""


def test_cli_bad_valence_gives_exit_code_2(capsys):
    assert main(["bader", str(CP2K_WATER_CUBE), "--valence", "O6"]) == 2
    assert "SYMBOL=N" in capsys.readouterr().err
