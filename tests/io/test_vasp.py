"""CHGCAR-family files: read against pymatgen's own writer and reader (e/Å³ after dividing by V_cell)."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.io.ase import AseAtomsAdaptor
from pymatgen.io.vasp import Chgcar, Poscar

from echemml import read_density, write_density
from echemml.io import read_chgcar


def pymatgen_chgcar(grid, spin=None, augmentation=False) -> Chgcar:
    """A pymatgen Chgcar holding a DensityGrid's values (pymatgen keeps n·V_cell)."""
    structure = AseAtomsAdaptor.get_structure(grid.atoms)
    volume = structure.volume
    data = {"total": grid.values * volume}
    if spin is not None:
        data["diff"] = spin * volume
    data_aug = None
    if augmentation:  # as lines, the form every pymatgen version writes back verbatim
        rng = np.random.default_rng(0)
        data_aug = {
            key: [
                line
                for atom in range(len(structure))
                for line in (
                    f"augmentation occupancies {atom + 1:3d} {6:3d}\n",
                    " ".join(f"{x: .7E}" for x in rng.normal(size=5)) + "\n",
                    f"{rng.normal(): .7E}\n",
                )
            ]
            for key in data
        }
    return Chgcar(Poscar(structure), data, data_aug=data_aug)


@pytest.fixture(scope="module")
def water_chgcar(tmp_path_factory, cp2k_water):
    path = tmp_path_factory.mktemp("vasp") / "CHGCAR"
    pymatgen_chgcar(cp2k_water).write_file(path)
    return path


def test_pymatgen_chgcar_reads_back_to_same_density(water_chgcar, cp2k_water):
    grid = read_density(water_chgcar)
    reference = Chgcar.from_file(water_chgcar)
    np.testing.assert_allclose(grid.values, reference.data["total"] / reference.structure.volume, rtol=1e-6)
    np.testing.assert_allclose(grid.values, cp2k_water.values, rtol=1e-6, atol=1e-12)


def test_chgcar_density_integrates_to_valence_electrons(water_chgcar):
    assert read_density(water_chgcar).integral() == pytest.approx(8.0, abs=1e-3)


def test_chgcar_atoms_and_cell_match_pymatgen(water_chgcar):
    grid = read_density(water_chgcar)
    structure = Chgcar.from_file(water_chgcar).structure
    np.testing.assert_allclose(np.asarray(grid.atoms.cell), structure.lattice.matrix, atol=1e-6)
    np.testing.assert_allclose(grid.atoms.positions, structure.cart_coords, atol=1e-5)
    assert grid.atoms.get_chemical_symbols() == [site.specie.symbol for site in structure]
    assert grid.periodic.all()


def test_spin_polarised_chgcar_with_augmentation_gives_total_and_magnetisation(tmp_path, cp2k_water):
    magnetisation = 0.25 * cp2k_water.values
    path = tmp_path / "CHGCAR"
    pymatgen_chgcar(cp2k_water, spin=magnetisation, augmentation=True).write_file(path)
    assert "augmentation occupancies" in path.read_text()
    grid = read_density(path)
    np.testing.assert_allclose(grid.values, cp2k_water.values, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(grid.spin, magnetisation, rtol=1e-6, atol=1e-12)
    assert grid.spin.sum() * grid.voxel_volume == pytest.approx(2.0, abs=1e-3)


def test_echemml_chgcar_is_read_by_pymatgen(tmp_path, cp2k_water):
    path = tmp_path / "CHGCAR"
    write_density(cp2k_water, path)
    reference = Chgcar.from_file(path)
    np.testing.assert_allclose(reference.data["total"] / reference.structure.volume, cp2k_water.values, rtol=1e-9)


def test_echemml_chgcar_round_trip_keeps_spin(tmp_path, cp2k_water):
    path = tmp_path / "CHGCAR"
    spin_grid = cp2k_water.with_values(cp2k_water.values, spin=-0.5 * cp2k_water.values)
    write_density(spin_grid, path)
    grid = read_chgcar(path)
    np.testing.assert_allclose(grid.spin, spin_grid.spin, rtol=1e-9)


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
def test_compressed_chgcar_reads_like_plain(tmp_path, cp2k_water, suffix):
    path = tmp_path / f"CHGCAR{suffix}"
    write_density(cp2k_water, path)
    np.testing.assert_allclose(read_density(path).values, cp2k_water.values, rtol=1e-9)


def test_chgcar_written_by_ase_reads_to_ase_values(tmp_path, cp2k_water):
    from ase.calculators.vasp import VaspChargeDensity

    path = tmp_path / "CHG"
    density = VaspChargeDensity(filename=None)
    density.atoms = [cp2k_water.atoms]
    density.chg = [cp2k_water.values]  # ASE keeps e/Å³ in memory, writes n·V
    density.write(str(path), format="chg")
    reference = VaspChargeDensity(str(path)).chg[-1]
    np.testing.assert_allclose(read_density(path).values, reference, rtol=1e-6)


@pytest.mark.parametrize("name", ["AECCAR2", "PARCHG.0001.ALLK", "CHG", "water.vasp"])
def test_vasp_family_names_are_read_as_chgcar(tmp_path, water_chgcar, name):
    path = tmp_path / name
    path.write_bytes(water_chgcar.read_bytes())
    assert read_density(path).integral() == pytest.approx(8.0, abs=1e-3)


def test_non_collinear_chgcar_gives_three_magnetisation_components(tmp_path, cp2k_water):
    structure = AseAtomsAdaptor.get_structure(cp2k_water.atoms)
    volume = structure.volume
    total = cp2k_water.values * volume
    data = {"total": total, "diff_x": 0.1 * total, "diff_y": -0.2 * total, "diff_z": 0.3 * total}
    path = tmp_path / "CHGCAR"
    chgcar = Chgcar(Poscar(structure), data)
    assert chgcar.is_soc
    chgcar.write_file(path)
    grid = read_density(path)
    assert grid.spin.shape == (3, *cp2k_water.shape)
    np.testing.assert_allclose(grid.spin[2], 0.3 * cp2k_water.values, rtol=1e-6, atol=1e-12)
