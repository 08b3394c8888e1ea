"""VASP backend (no VASP here): pymatgen inputs, validators and the reading side on files pymatgen writes."""

from __future__ import annotations

import shutil

import pytest
from ase.build import fcc100

from echemml import EchemmlError
from echemml.dft.vasp import read_vasp_density, read_vasprun, run_vasp, vasp_input_set, write_vasp_inputs

pytest.importorskip("pymatgen")


@pytest.fixture
def slab():
    atoms = fcc100("Au", size=(2, 2, 3), vacuum=8.0)
    atoms.pbc = True
    return atoms


@pytest.fixture
def water_chgcar(tmp_path, cp2k_water):
    """A folder holding a CHGCAR of CP2K's water density (8 valence electrons), written by pymatgen."""
    from pymatgen.io.ase import AseAtomsAdaptor
    from pymatgen.io.vasp import Chgcar, Poscar

    structure = AseAtomsAdaptor.get_structure(cp2k_water.atoms)
    Chgcar(Poscar(structure), {"total": cp2k_water.values * structure.volume}).write_file(tmp_path / "CHGCAR")
    return tmp_path


def test_static_set_writes_the_charge_density(slab):
    incar = vasp_input_set(slab).incar
    assert incar["LCHARG"] is True and incar["NSW"] == 0
    assert "EFIELD" not in incar


def test_field_sets_the_dipole_layer_along_its_axis(slab):
    incar = vasp_input_set(slab, field=[0.0, 0.0, -1.0]).incar
    assert incar["EFIELD"] == -1.0 and incar["IDIPOL"] == 3 and incar["LDIPOL"] is True


def test_inputs_written_with_a_potcar_spec(tmp_path, slab):
    folder = write_vasp_inputs(slab, tmp_path / "run", field=[0.0, 0.0, -0.5], potcar_spec=True)
    names = {path.name for path in folder.iterdir()}
    assert {"INCAR", "POSCAR", "KPOINTS", "POTCAR.spec"} <= names
    assert "Au" in (folder / "POTCAR.spec").read_text()
    from ase.io import read

    written = read(folder / "POSCAR")
    assert (written.numbers == slab.numbers).all()


def test_running_without_vasp_says_so(tmp_path):
    if shutil.which("vasp_std"):
        pytest.skip("VASP is installed here")
    with pytest.raises(EchemmlError, match="not installed"):
        run_vasp(tmp_path, "vasp_std")


def test_chgcar_from_pymatgen_writer_reads_as_density(water_chgcar):
    assert read_vasp_density(water_chgcar).integral() == pytest.approx(8.0, abs=1e-3)


def test_missing_vasprun_says_so(tmp_path):
    with pytest.raises(EchemmlError, match="no vasprun.xml"):
        read_vasprun(tmp_path)


def test_field_with_its_dipole_layer_passes(tmp_path, slab):
    from echemml.dft.vasp.validators import DipoleFieldValidator

    write_vasp_inputs(slab, tmp_path, field=[0.0, 0.0, -0.5], potcar_spec=True)
    assert not DipoleFieldValidator().check(str(tmp_path))


def test_field_without_ldipol_fails(tmp_path, slab):
    from pymatgen.io.vasp import Incar

    from echemml.dft.vasp.validators import DipoleFieldValidator

    write_vasp_inputs(slab, tmp_path, field=[0.0, 0.0, -0.5], potcar_spec=True)
    incar = Incar.from_file(tmp_path / "INCAR")
    incar["LDIPOL"] = False
    incar.write_file(tmp_path / "INCAR")
    assert DipoleFieldValidator().check(str(tmp_path))


def test_written_chgcar_passes(water_chgcar):
    from echemml.dft.vasp.validators import ChgcarValidator

    assert not ChgcarValidator().check(str(water_chgcar))


def test_missing_chgcar_fails(tmp_path):
    from echemml.dft.vasp.validators import ChgcarValidator

    assert ChgcarValidator().check(str(tmp_path))


def test_job_setup_names_missing_inputs(tmp_path, slab):
    from echemml.dft.vasp.jobs import VaspDensityJob

    write_vasp_inputs(slab, tmp_path, potcar_spec=True)
    with pytest.raises(EchemmlError, match="missing: POTCAR"):
        VaspDensityJob().setup(str(tmp_path))


def test_job_environment_has_its_threads_and_leaves_os_environ(monkeypatch):
    import os

    from echemml.dft.vasp.jobs import VaspDensityJob

    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    assert VaspDensityJob(threads=1).environment()["OMP_NUM_THREADS"] == "1"
    assert os.environ["OMP_NUM_THREADS"] == "4"
