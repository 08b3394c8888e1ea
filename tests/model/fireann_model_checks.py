"""Checks every FIREANN head must pass (a reusable mixin, in the manner of NequIP's).

A test class sets ``head`` and inherits :class:`ModelChecks`; ``observe`` turns
a model, atoms, probe points and a field into the numbers that must be
invariant (values at the points for ghost-point heads, energy for the energy
head).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import fcc100, molecule
from scipy.spatial.transform import Rotation

from echemml.model import FireannConfig, build_model, predict_energy, predict_points

SPECIES = (1, 6, 8, 79)
FIELD = np.array([0.15, -0.25, 0.3])  # V/Å


def small_config(**changes) -> FireannConfig:
    sizes = dict(species=SPECIES, cutoff=4.0, n_radial=4, max_l=2, n_iterations=2, orbital_hidden=(8, 8), readout_hidden=(16, 16))
    sizes.update(changes)
    return FireannConfig(**sizes)


def numerical_forces(energy_of, atoms, step: float = 1e-5) -> np.ndarray:
    """−∂E/∂R (eV/Å) by central differences of ``energy_of(moved_atoms)`` (eV), moving each coordinate by ``step`` Å."""
    numeric = np.zeros((len(atoms), 3))
    for i in range(len(atoms)):
        for axis in range(3):
            energies = []
            for sign in (1, -1):
                moved = atoms.copy()
                moved.positions[i, axis] += sign * step
                energies.append(energy_of(moved))
            numeric[i, axis] = -(energies[0] - energies[1]) / (2 * step)
    return numeric


def randomized(model, seed: int = 0):
    """Give every weight a non-trivial value (fresh models have zero last layers)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            noise = torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype)
            if "radial_centers" in name or "radial_widths" in name:
                parameter.add_(0.1 * noise)
            elif "field_coefficients" in name or "embedding" in name or name.endswith("bias"):
                parameter.copy_(0.5 * noise)
            elif "contraction" in name:
                parameter.copy_(noise / parameter.shape[-2] ** 0.5)
            else:  # linear weights, (out, in)
                parameter.copy_(noise / parameter.shape[-1] ** 0.5)
    return model.eval()


def ethanol() -> Atoms:
    atoms = molecule("CH3CH2OH")
    atoms.positions += [0.3, -0.2, 0.1]
    return atoms


def gold_slab() -> Atoms:
    return fcc100("Au", (1, 1, 2), vacuum=3.0)  # 2.9 Å cell: several images within rc


def probe_points(atoms: Atoms, n: int = 60, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    low, high = atoms.positions.min(axis=0) - 1.5, atoms.positions.max(axis=0) + 1.5
    return rng.uniform(low, high, size=(n, 3))


class ModelChecks:
    """Symmetry and consistency checks shared by every head."""

    head: str = ""
    rtol: float = 1e-9

    @pytest.fixture(scope="class")
    def model(self):
        return randomized(build_model(small_config(), self.head).double())

    def observe(self, model, atoms: Atoms, points: np.ndarray, field, dtype=torch.float64) -> np.ndarray:
        raise NotImplementedError

    def assert_same(self, a, b, scale=None):
        scale = np.abs(a).max() + 1e-12 if scale is None else scale
        np.testing.assert_allclose(a, b, rtol=0, atol=self.rtol * scale + 1e-12)

    # ------------------------------------------------------------------ symmetries
    def test_output_is_not_trivial(self, model):
        atoms = ethanol()
        values = self.observe(model, atoms, probe_points(atoms), FIELD)
        assert np.all(np.isfinite(values))
        assert np.ptp(values) > 1e-6 or self.head == "energy"

    def test_rotation_of_atoms_together_with_field(self, model):
        atoms, points = ethanol(), probe_points(ethanol())
        rotation = Rotation.random(random_state=7).as_matrix()
        rotated = atoms.copy()
        rotated.positions = atoms.positions @ rotation.T
        before = self.observe(model, atoms, points, FIELD)
        after = self.observe(model, rotated, points @ rotation.T, rotation @ FIELD)
        self.assert_same(before, after)
        # the field is a direction the model sees: turning the atoms alone changes the answer
        alone = self.observe(model, rotated, points @ rotation.T, FIELD)
        assert np.abs(alone - before).max() > 1e3 * self.rtol * (np.abs(before).max() + 1e-12)

    def test_zero_field_has_no_direction(self, model):
        """At ε = 0 the l ≥ 1 field terms vanish: rotating the atoms alone changes nothing."""
        atoms, points = ethanol(), probe_points(ethanol())
        rotation = Rotation.random(random_state=11).as_matrix()
        rotated = atoms.copy()
        rotated.positions = atoms.positions @ rotation.T
        before = self.observe(model, atoms, points, None)
        self.assert_same(before, self.observe(model, rotated, points @ rotation.T, np.zeros(3)))

    def test_translation(self, model):
        for atoms in (ethanol(), gold_slab()):
            points = probe_points(atoms)
            moved = atoms.copy()
            moved.positions += [1.7, -0.4, 2.3]
            self.assert_same(
                self.observe(model, atoms, points, FIELD),
                self.observe(model, moved, points + [1.7, -0.4, 2.3], FIELD),
            )

    def test_permutation_of_like_atoms(self, model):
        atoms, points = ethanol(), probe_points(ethanol())
        order = np.arange(len(atoms))
        hydrogens = np.flatnonzero(atoms.numbers == 1)
        carbons = np.flatnonzero(atoms.numbers == 6)
        order[hydrogens] = hydrogens[::-1]
        order[carbons] = carbons[::-1]
        self.assert_same(self.observe(model, atoms, points, FIELD), self.observe(model, atoms[order], points, FIELD))

    def test_periodic_images(self, model):
        """A 2×1×1 supercell gives the same values at the same points (energy: twice)."""
        atoms = gold_slab()
        points = probe_points(atoms)
        single = self.observe(model, atoms, points, FIELD)
        double = self.observe(model, atoms.repeat((2, 1, 1)), points, FIELD)
        self.assert_same(self.extensive(single, 2), double)

    def extensive(self, values: np.ndarray, copies: int) -> np.ndarray:
        return values

    # ------------------------------------------------------------ numerics
    def test_float32_agrees_with_float64(self, model):
        atoms, points = ethanol(), probe_points(ethanol())
        double = self.observe(model, atoms, points, FIELD, dtype=torch.float64)
        single = self.observe(model, atoms, points, FIELD, dtype=torch.float32)
        assert single.dtype == np.float32 or self.head == "energy"
        np.testing.assert_allclose(single, double, rtol=0, atol=2e-5 * (np.abs(double).max() + 1e-3))

    def test_chunked_equals_single_pass(self, model):
        raise NotImplementedError


class GhostPointChecks(ModelChecks):
    """Extra checks for heads that predict values at ghost grid points."""

    def observe(self, model, atoms, points, field, dtype=torch.float64):
        return predict_points(model, atoms, points, field=field, dtype=dtype)

    def test_chunked_equals_single_pass(self, model):
        atoms = gold_slab()
        points = probe_points(atoms, n=200)
        whole = predict_points(model, atoms, points, field=FIELD, dtype=torch.float64, chunk_size=10_000)
        chunked = predict_points(model, atoms, points, field=FIELD, dtype=torch.float64, chunk_size=7)
        self.assert_same(whole, chunked)


class EnergyChecks(ModelChecks):
    """Extra checks for the energy head."""

    def observe(self, model, atoms, points, field, dtype=torch.float64):
        return np.array([predict_energy(model, atoms, field=field, dtype=dtype, stress=False)["energy"]])

    def extensive(self, values, copies):
        return values * copies
