"""Each atom's valence charge from CP2K's own output: the kinds it prints, on real runs (needs cp2k.psmp)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import numpy as np
import pytest
from ase import Atoms
from ase.build import fcc100

from echemml.cli import main
from echemml.dft.cp2k import Cp2kSettings, read_output, run_cp2k
from echemml.io import read_density, write_density
from tests.conftest import CP2K_WATER_CUBE, DATA

pytest.importorskip("custodian")
from echemml.dft.cp2k.jobs import Cp2kDensityJob  # noqa: E402

pytestmark = [
    pytest.mark.dft,
    pytest.mark.skipif(shutil.which("cp2k.psmp") is None, reason="CP2K not installed (apt-get install cp2k)"),
]
WATER = Atoms("OH2", positions=[(2.75, 2.75, 2.87), (2.75, 3.51, 2.27), (2.75, 1.99, 2.27)], cell=[5.5] * 3, pbc=True)
FAST = Cp2kSettings(cutoff=200, smearing_K=0, forces=False)
KINDS_PRINT = "    &PRINT\n      &KINDS\n        POTENTIAL\n      &END KINDS\n    &END PRINT\n  &END SUBSYS"


@pytest.fixture(scope="module")
def water_run():
    """CP2K on water in a 5.5 Å periodic box at 200 Ry (about 10 s)."""
    return run_cp2k(WATER, settings=FAST)


@pytest.fixture(scope="module")
def fixture_rerun(tmp_path_factory):
    """The committed water fixture's input (tests/data/cp2k_h2o) rerun with CP2K's kinds printed."""
    folder = tmp_path_factory.mktemp("h2o")
    text = (DATA / "cp2k_h2o" / "h2o.inp").read_text().replace("  &END SUBSYS", KINDS_PRINT)
    (folder / "h2o.inp").write_text(text)
    subprocess.run(["cp2k.psmp", "-i", "h2o.inp", "-o", "h2o.out"], cwd=folder, check=True,
                   env={**os.environ, "OMP_NUM_THREADS": "2"})
    return folder


def test_grid_carries_the_valence_charges_cp2k_used(water_run):
    valence = water_run.grid.metadata["valence_charges"]
    assert valence.tolist() == [6.0, 1.0, 1.0]
    assert valence.sum() == water_run.n_valence


def test_bader_on_the_written_cube_needs_no_valence_and_balances(water_run, tmp_path, capsys):
    pytest.importorskip("baderkit.bader")
    write_density(water_run.grid, tmp_path / "water.cube")
    assert main(["bader", str(tmp_path / "water.cube"), "--json", "--quiet"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [atom["valence"] for atom in report["atoms"]] == [6.0, 1.0, 1.0]
    net = sum(atom["charge"] for atom in report["atoms"])  # Σ Z_val − electrons in the basins, e
    assert net == pytest.approx(report["vacuum_electrons"], abs=1e-3)


def test_printing_the_kinds_leaves_the_density_unchanged(fixture_rerun):
    rerun = read_density(next(fixture_rerun.glob("h2o-ELECTRON_DENSITY-1_*.cube")))
    np.testing.assert_allclose(rerun.values, read_density(CP2K_WATER_CUBE).values, rtol=0, atol=1e-8)


def test_output_lists_each_kinds_valence(fixture_rerun):
    assert read_output(fixture_rerun / "h2o.out").valence_charges == {"O": 6.0, "H": 1.0}


def test_output_cut_short_inside_its_kind_block_reads_as_unfinished(fixture_rerun, tmp_path):
    text = (fixture_rerun / "h2o.out").read_text()
    (tmp_path / "cp2k.out").write_text(text[: text.index("Potential information for")])
    summary = read_output(tmp_path / "cp2k.out")
    assert not summary.completed and summary.valence_charges == {}


def test_gold_has_eleven_valence_electrons_in_gth_pbe(tmp_path):
    """Au's GTH-PBE potential is GTH-PBE-q11; one SCF step is enough for CP2K to print its kinds."""
    slab = fcc100("Au", size=(1, 1, 2), vacuum=4.0)
    slab.pbc = [True, True, False]
    job = Cp2kDensityJob(slab, settings=Cp2kSettings(cutoff=200, max_scf=1, added_mos=10, forces=False))
    job.setup(str(tmp_path))
    assert job.run(str(tmp_path)).wait() == 0
    assert read_output(tmp_path / "cp2k.out").valence_charges == {"Au": 11.0}
