"""The compiled grid kernels give the torch features' numbers (neighbour sums, Gram terms)."""

from __future__ import annotations

import numpy as np
import torch
from ase.build import fcc100, molecule

from echemml.grid import uniform_grid
from echemml.model import build_model, preset_config
from echemml.model.grid_kernel import (
    RADIAL_FLOOR,
    gram_terms,
    grid_neighbour_sums,
    radial_table,
    radial_tables,
)
from echemml.model.inputs import AtomGraph
from echemml.neighbors import atom_images_near, grid_atom_pairs, grid_corners


def kernel_and_torch_sums(atoms, spacing, field):
    torch.manual_seed(0)
    model = build_model(preset_config("qm9", species=sorted(set(atoms.numbers))), "density").double()
    features = model.representation.features
    stage = model.representation.final_stage
    grid = uniform_grid(atoms, spacing, 2.0)
    with torch.no_grad():
        states = model.atom_context(AtomGraph.from_atoms(atoms, model.species, model.cutoff, field, torch.float64))[0]
        atom_index, _, positions = atom_images_near(atoms, grid_corners(grid.origin, grid.voxel, grid.shape), model.cutoff)
        planes = (2, 6)
        sums, counts = grid_neighbour_sums(
            positions, atom_index, states.species.numpy(), states.coefficients.numpy(),
            features.radial_centers.detach().numpy(), features.radial_widths.detach().numpy(), model.cutoff,
            grid.origin, grid.voxel, grid.shape, planes, features.angular.exponents.numpy(),
            features.angular.sqrt_weights.numpy(), features.field_term(stage, states.field[:1]).numpy()[0],
        )
        pairs = grid_atom_pairs(atoms, grid.origin, grid.voxel, grid.shape, model.cutoff, planes=planes)
        n_points = len(counts)
        reference = model.representation.ghost_sums(
            states, torch.as_tensor(pairs.vectors), torch.as_tensor(pairs.points), torch.as_tensor(pairs.atoms), n_points
        )
    return sums, counts, reference, pairs, features


def test_kernel_sums_equal_torch_sums_for_a_molecule_in_a_field():
    sums, counts, reference, pairs, _ = kernel_and_torch_sums(molecule("CH3OH"), 0.25, [0.0, 0.3, -0.2])
    np.testing.assert_allclose(sums, reference.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(counts, np.bincount(pairs.points, minlength=len(counts)))


def test_kernel_sums_equal_torch_sums_across_periodic_images():
    slab = fcc100("Au", size=(1, 1, 2), vacuum=3.0)  # cell smaller than the cutoff
    slab.pbc = True
    sums, _, reference, _, _ = kernel_and_torch_sums(slab, 0.4, None)
    np.testing.assert_allclose(sums, reference.numpy(), rtol=1e-10, atol=1e-12)


def test_kernel_gram_terms_equal_torch_gram_terms():
    sums, counts, reference, _, features = kernel_and_torch_sums(molecule("H2O"), 0.3, None)
    occupied = np.flatnonzero(counts)
    gram = gram_terms(sums, occupied, features.max_l, dtype=np.float64)
    expected = features.gram_terms(torch.as_tensor(sums[occupied])).numpy()
    np.testing.assert_allclose(gram, expected, rtol=1e-12, atol=1e-14)


def test_radial_table_holds_no_float32_subnormals():
    """Gaussian tails are floored to 0: subnormal floats would put the kernel on the CPU's slow path."""
    centers = np.linspace(0.5, 6.0, 12)[None]  # Å, as the Au response model spreads them
    table = radial_table(centers, np.full_like(centers, 0.25), 6.0, 1e-3).astype(np.float32)
    assert table[table != 0].min() >= RADIAL_FLOOR  # unfloored, the tails go down to 1e-45


def test_a_radial_table_made_once_gives_the_sums_of_one_made_per_call():
    """Prediction tabulates the radial basis once per grid and hands it to every chunk."""
    atoms = molecule("H2O")
    torch.manual_seed(0)
    model = build_model(preset_config("qm9", species=[1, 8]), "density").double()
    features = model.representation.features
    grid = uniform_grid(atoms, 0.3, 2.0)
    with torch.no_grad():
        states = model.atom_context(AtomGraph.from_atoms(atoms, model.species, model.cutoff, None, torch.float64))[0]
    atom_index, _, positions = atom_images_near(atoms, grid_corners(grid.origin, grid.voxel, grid.shape), model.cutoff)
    centers, widths = features.radial_centers.detach().numpy(), features.radial_widths.detach().numpy()

    def sums(table):
        return grid_neighbour_sums(
            positions, atom_index, states.species.numpy(), states.coefficients.numpy(), centers, widths, model.cutoff,
            grid.origin, grid.voxel, grid.shape, (2, 6), features.angular.exponents.numpy(),
            features.angular.sqrt_weights.numpy(), np.zeros((len(features.angular.sqrt_weights), centers.shape[1])),
            dtype=np.float32, table_step=1e-3, table=table,
        )[0]

    made_once = radial_tables(centers, widths, model.cutoff, 1e-3, np.float32)
    assert made_once.shape[:2] == (1, 2) and made_once.dtype == np.float32
    np.testing.assert_array_equal(sums(made_once), sums(None))
