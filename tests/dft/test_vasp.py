"""VASP backend: pymatgen inputs (no VASP here), and the reading side on pymatgen-written CHGCARs."""

from __future__ import annotations

import shutil

import pytest
from ase.build import fcc100

from echemml import EchemmlError, read_density
from echemml.dft.vasp import run_vasp, vasp_input_set, write_vasp_inputs

pytest.importorskip("pymatgen")


@pytest.fixture
def slab():
    atoms = fcc100("Au", size=(2, 2, 3), vacuum=8.0)
    atoms.pbc = True
    return atoms


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


def test_chgcar_from_pymatgen_writer_reads_as_density(tmp_path, cp2k_water):
    from pymatgen.io.ase import AseAtomsAdaptor
    from pymatgen.io.vasp import Chgcar, Poscar

    structure = AseAtomsAdaptor.get_structure(cp2k_water.atoms)
    Chgcar(Poscar(structure), {"total": cp2k_water.values * structure.volume}).write_file(tmp_path / "CHGCAR")
    assert read_density(tmp_path / "CHGCAR").integral() == pytest.approx(8.0, abs=1e-3)
