"""custodian Validators of CP2K runs, on real CP2K outputs: the fixtures in tests/data and tiny H2 runs."""

from __future__ import annotations

import shutil

import pytest

from echemml.dft.cp2k import Cp2kSettings, run_cp2k
from tests.conftest import DATA
from tests.dft.conftest import H2, require_cp2k

pytest.importorskip("custodian")
from echemml.dft.cp2k.jobs import Cp2kDensityJob  # noqa: E402
from echemml.dft.cp2k.validators import MtCellValidator, ScfConvergedValidator  # noqa: E402

needs_cp2k = pytest.mark.skipif(shutil.which("cp2k.psmp") is None, reason="CP2K not installed (apt-get install cp2k)")
AU100 = DATA / "cp2k_au100"


@pytest.fixture(scope="module")
def unconverged_run(tmp_path_factory):
    """A folder where CP2K ran H2 with MAX_SCF 1: it ends normally with an unconverged SCF."""
    require_cp2k()
    folder = tmp_path_factory.mktemp("unconverged")
    job = Cp2kDensityJob(H2, settings=Cp2kSettings(cutoff=200, smearing_K=0, max_scf=1, forces=False, threads=1))
    job.setup(str(folder))
    assert job.run(str(folder)).wait() == 0
    return folder


@pytest.fixture(scope="module")
def short_cell_run(tmp_path_factory):
    """A kept H2 run whose 8 Å cell is 1.7× its density along z."""
    require_cp2k()
    folder = tmp_path_factory.mktemp("short")
    with pytest.warns(UserWarning, match="MT Poisson"):
        run_cp2k(H2, settings=Cp2kSettings(cutoff=200, smearing_K=0, forces=False, threads=1), keep=folder)
    return folder


def test_converged_slab_output_passes():
    assert not ScfConvergedValidator("au100_field0.out").check(str(AU100))


@needs_cp2k
def test_unconverged_scf_fails(unconverged_run):
    assert ScfConvergedValidator().check(str(unconverged_run))


@needs_cp2k
def test_unconverged_scf_is_explained_with_its_steps(unconverged_run):
    assert "SCF did not converge (1 SCF steps" in ScfConvergedValidator().explain(str(unconverged_run))


def test_output_cut_short_fails_as_unfinished(tmp_path):
    lines = (DATA / "cp2k_h2o" / "h2o.out").read_text().splitlines()
    (tmp_path / "cp2k.out").write_text("\n".join(lines[:140]) + "\n")
    validator = ScfConvergedValidator()
    assert validator.check(str(tmp_path))
    assert "did not finish" in validator.explain(str(tmp_path))


def test_missing_output_fails(tmp_path):
    assert ScfConvergedValidator().check(str(tmp_path))


def test_slab_cell_twice_its_density_passes():
    assert not MtCellValidator("au100_field0.inp", "au100_field0.cube.gz").check(str(AU100))


@needs_cp2k
def test_cell_shorter_than_twice_the_density_fails(short_cell_run):
    validator = MtCellValidator(cube_file="density.cube")
    assert validator.check(str(short_cell_run))
    assert "along z is 1.7" in validator.explain(str(short_cell_run))


@needs_cp2k
def test_fully_periodic_run_is_not_checked(short_cell_run, tmp_path):
    text = (short_cell_run / "cp2k.inp").read_text().replace("PERIODIC XY\n", "PERIODIC XYZ\n")
    (tmp_path / "cp2k.inp").write_text(text)
    shutil.copy(short_cell_run / "density.cube", tmp_path)
    assert not MtCellValidator(cube_file="density.cube").check(str(tmp_path))
