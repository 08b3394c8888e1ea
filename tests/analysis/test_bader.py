"""Bader charges: analytic split of two Gaussians, both engines on real O–H densities,
valence charges, a model's predicted density, CLI.

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

from echemml import DensityGrid, read_density, write_density
from echemml.analysis.bader import bader_charges, valence_counts
from echemml.cli import main
from echemml.errors import EchemmlError, InputFileError
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
    # measured: 0.002 e lie at or below the default vacuum threshold (1e-4 e/Å³)
    result = bader_charges(cp2k_water, valence=WATER_VALENCE)
    assert result.backend == "baderkit"
    assert result.maxima.tolist() == [2, 0, 0]
    np.testing.assert_allclose(result.electrons + [result.vacuum_electrons, 0, 0], [8.0, 0.0, 0.0], atol=1e-3)


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
    np.testing.assert_allclose(kit.electrons + [kit.vacuum_electrons, 0, 0], [8.0, 0.0, 0.0], atol=1e-3)
    np.testing.assert_allclose(sorted(py.electrons[1:]), [0.0, 0.252], atol=0.01)
    assert py.electrons[0] + py.vacuum_electrons == pytest.approx(8.0 - py.electrons[1:].sum(), abs=1e-3)


@pytest.mark.dft
@pytest.mark.parametrize("backend", BACKENDS)
def test_pyscf_water_o_negative_h_positive_neutral(pyscf_water, backend):
    # Z_val from the grid's GTH valences (O 6, H 1); measured: O −2.000, H +1.000 with
    # both engines on this 0.15 Å grid (no H maximum resolved); 0.0012 e lie in the vacuum
    _needs(backend)
    result = bader_charges(pyscf_water.grid, backend=backend)
    assert result.valence.tolist() == [6.0, 1.0, 1.0]
    assert result.charges[0] < 0 and np.all(result.charges[1:] > 0)
    assert result.total_charge == pytest.approx(0.0, abs=1e-3)


# -------------------------------------------------------------- valence counts
def test_valence_is_refused_when_the_cube_lists_zeros(cp2k_water):
    # CP2K writes 0 in the charge column: nothing to take the valence from, nothing guessed
    with pytest.raises(InputFileError, match=r"lists no valence charge per atom.*--valence O=N H=N"):
        valence_counts(cp2k_water)


def test_valence_is_refused_when_the_cube_lists_z_for_a_valence_density(cp2k_water):
    # the bug of issue 33: Z (O 8, H 1) taken as valence gave +2 e for neutral water
    grid = cp2k_water.with_values(cp2k_water.values)
    grid.metadata["nuclear_charges"] = grid.atoms.numbers.astype(float)
    with pytest.raises(InputFileError, match=r"lists the atomic numbers \(ΣZ = 10 e\) but its density holds 8.00 e"):
        valence_counts(grid)


def test_z_in_the_charge_column_is_the_valence_of_an_all_electron_density():
    # two He atoms of 2 e each: the density holds ΣZ = 4 e, so Z is the valence
    grid = _two_gaussians(periodic=False)
    grid.metadata["nuclear_charges"] = np.array([2.0, 2.0])
    assert valence_counts(grid).tolist() == [2.0, 2.0]


def test_valence_charges_of_the_grid_come_before_its_charge_column(cp2k_water):
    grid = cp2k_water.with_values(cp2k_water.values)
    grid.metadata["valence_charges"] = np.array([6.0, 1.0, 1.0])
    assert valence_counts(grid).tolist() == [6.0, 1.0, 1.0]


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


def test_missing_pymatgen_gives_the_install_line_through_the_cli(monkeypatch, capsys):
    # the Quick-start install has no pymatgen: the friendly line must come before any ModuleNotFoundError
    for module in [name for name in sys.modules if name == "pymatgen" or name.startswith("pymatgen.")] + ["pymatgen"]:
        monkeypatch.setitem(sys.modules, module, None)  # None in sys.modules: the import fails
    assert main(["bader", str(CP2K_WATER_CUBE), "--valence", "O=6", "H=1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("echemml: error: the baderkit backend is not installed") and "echemml[bader]" in err
    assert len(err.strip().splitlines()) == 1


def test_negative_vacuum_threshold_is_an_error(cp2k_water):
    with pytest.raises(EchemmlError, match="vacuum threshold must be ≥ 0"):
        bader_charges(cp2k_water, valence=WATER_VALENCE, vacuum_tol=-1e-4)


def test_unknown_backend_is_an_error(cp2k_water):
    with pytest.raises(EchemmlError, match="unknown Bader backend"):
        bader_charges(cp2k_water, backend="henkelman", valence=WATER_VALENCE)


# ------------------------------------------------------------------------ CLI
def test_cli_json_has_file_backend_atoms_and_totals(capsys):
    _needs("baderkit")
    assert main(["bader", str(CP2K_WATER_CUBE), "--valence", "O=6", "H=1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"file", "backend", "atoms", "total_electrons", "vacuum_electrons", "vacuum_tol"} <= set(report)
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
    assert "vacuum electrons" in out and "n ≤ 0.0001 e/Å³" in out
    rows = [line.split()[:2] for line in out.splitlines()]
    assert ["0", "O"] in rows and ["1", "H"] in rows and ["2", "H"] in rows


def test_cli_reports_each_stage_on_stderr(capsys):
    _needs("baderkit")
    assert main(["bader", str(CP2K_WATER_CUBE), "--valence", "O=6", "H=1"]) == 0
    stages = capsys.readouterr().err.splitlines()
    assert len(stages) == 2
    assert "partitioning" in stages[0] and "of 157464 points with baderkit" in stages[0]
    assert "partitioned in" in stages[1]


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


def test_cli_asks_for_the_valence_of_a_cube_that_lists_z(tmp_path, cp2k_water, capsys):
    path = tmp_path / "water.cube"
    write_density(DensityGrid(cp2k_water.atoms, cp2k_water.values, voxel=cp2k_water.voxel), path)  # column: Z
    assert main(["bader", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"echemml: error: {path}: the file lists the atomic numbers")
    assert "--valence O=N H=N" in err and len(err.strip().splitlines()) == 1


# ------------------------------------------- the qm9-density model's methanol
@pytest.fixture(scope="module")
def predicted_methanol(tmp_path_factory):
    """``echemml predict qm9-density`` on methanol, 0.2 Å grid (51×52×50 points, most of them exactly 0)."""
    import ase.io
    from ase.build import molecule

    folder = tmp_path_factory.mktemp("methanol")
    ase.io.write(folder / "methanol.xyz", molecule("CH3OH"))
    cube = folder / "m.cube"
    argv = ["predict", "qm9-density", str(folder / "methanol.xyz"), "-o", str(cube), "--spacing", "0.2"]
    assert main([*argv, "--threads", "1"]) == 0
    return cube


def test_predicted_cube_carries_the_model_valence_charges(predicted_methanol):
    assert read_density(predicted_methanol).metadata["valence_charges"].tolist() == [4, 6, 1, 1, 1, 1]


def test_bader_of_predicted_methanol_is_neutral(predicted_methanol, capsys):
    # the model's density holds 14.03 e (measured); with Z as valence the total was +3.98 e
    _needs("baderkit")
    capsys.readouterr()
    assert main(["bader", str(predicted_methanol), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [atom["valence"] for atom in report["atoms"]] == [4, 6, 1, 1, 1, 1]
    assert report["total_charge"] == pytest.approx(0.0, abs=0.05)


def test_default_bader_keeps_the_zero_plateaus_out_of_the_partition(predicted_methanol, monkeypatch):
    # exactly-zero points (beyond the model's cutoff) must all be vacuum, never basins
    _needs("baderkit")
    import baderkit.bader

    made = []

    class SpyBader(baderkit.bader.Bader):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(baderkit.bader, "Bader", SpyBader)
    bader_charges(read_density(predicted_methanol))
    (bader,) = made
    zeros = bader.charge_grid.total == 0.0
    assert zeros.mean() > 0.5
    assert bader.vacuum_mask[zeros].all()
