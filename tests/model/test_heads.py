"""Every head passes the shared model checks; head-specific physics on top."""

from __future__ import annotations

import numpy as np
import torch
from ase.build import bulk
from tests.model.fireann_model_checks import (
    FIELD,
    EnergyChecks,
    GhostPointChecks,
    ethanol,
    gold_slab,
    numerical_forces,
    probe_points,
    randomized,
    small_config,
)
from scipy.spatial.transform import Rotation

from echemml.model import build_model, predict_energy, predict_points
from echemml.model.inputs import AtomGraph, batch_graphs, model_batch


class TestDensityHead(GhostPointChecks):
    head = "density"


class TestResponseHead(GhostPointChecks):
    head = "response"

    def test_vanishes_exactly_without_field(self, model):
        atoms = gold_slab()
        values = predict_points(model, atoms, probe_points(atoms), field=np.zeros(3), dtype=torch.float64)
        assert np.all(values == 0.0)

    def test_odd_in_the_field_to_first_order(self, model):
        atoms = ethanol()
        points = probe_points(atoms)
        small = 1e-4 * FIELD / np.linalg.norm(FIELD)
        plus = predict_points(model, atoms, points, field=small, dtype=torch.float64)
        minus = predict_points(model, atoms, points, field=-small, dtype=torch.float64)
        assert np.abs(plus).max() > 0
        # Δn(ε) + Δn(−ε) = O(ε²) while Δn(ε) = O(ε)
        assert np.abs(plus + minus).max() < 1e-2 * np.abs(plus).max()

    def test_one_pass_gives_the_states_in_the_field_and_without_it(self, model):
        """contexts() runs both message passings as one batch: the states of two separate passes."""
        model = randomized(model).double()
        graphs = [AtomGraph.from_atoms(a, model.species, model.cutoff, FIELD) for a in (ethanol(), gold_slab())]
        graph = batch_graphs(graphs)
        (in_field,), (without,) = model.contexts(graph)
        for states, apart in ((in_field, model.field_context(graph)[0]), (without, model.field_free_context(graph)[0])):
            torch.testing.assert_close(states.coefficients, apart.coefficients, rtol=1e-12, atol=1e-12)
            torch.testing.assert_close(states.features, apart.features, rtol=1e-12, atol=1e-12)
            torch.testing.assert_close(states.field, apart.field)
        assert not torch.allclose(in_field.features, without.features)


class TestEnergyHead(EnergyChecks):
    head = "energy"

    def test_chunked_equals_single_pass(self, model):
        """Two structures in one batch give the energies and forces of two separate passes."""
        first, second = ethanol(), gold_slab()
        graphs = [AtomGraph.from_atoms(a, model.species, model.cutoff, FIELD) for a in (first, second)]
        together = model(model_batch(batch_graphs(graphs)))
        apart = [model(model_batch(g)) for g in graphs]
        np.testing.assert_allclose(
            together["energy"].detach().numpy(), [float(a["energy"][0].detach()) for a in apart], rtol=1e-12
        )
        np.testing.assert_allclose(
            together["forces"].numpy(), torch.cat([a["forces"] for a in apart]).numpy(), atol=1e-12
        )

    def test_forces_equal_finite_differences(self, model):
        for atoms in (ethanol(), gold_slab()):
            atoms.rattle(0.05, seed=2)
            forces = predict_energy(model, atoms, field=FIELD)["forces"]
            numeric = numerical_forces(lambda moved: predict_energy(model, moved, field=FIELD, stress=False)["energy"], atoms)
            np.testing.assert_allclose(forces, numeric, atol=1e-6 * (np.abs(forces).max() + 1))

    def test_stress_equals_finite_differences(self, model):
        atoms = bulk("Au", "fcc", a=4.08).repeat((1, 1, 2))
        atoms.cell[2] += [0.3, -0.2, 0.0]  # triclinic
        atoms.rattle(0.05, seed=3)
        stress = predict_energy(model, atoms, field=FIELD)["stress"]
        step = 1e-6
        numeric = np.zeros((3, 3))
        for a in range(3):
            for b in range(3):
                energies = []
                for sign in (1, -1):
                    strain = np.eye(3)
                    strain[a, b] += sign * step
                    strained = atoms.copy()
                    strained.set_cell(atoms.cell @ strain, scale_atoms=True)
                    energies.append(predict_energy(model, strained, field=FIELD, stress=False)["energy"])
                numeric[a, b] = (energies[0] - energies[1]) / (2 * step) / atoms.get_volume()
        numeric = 0.5 * (numeric + numeric.T)
        np.testing.assert_allclose(stress, numeric, atol=1e-6 * (np.abs(stress).max() + 1e-3))

    def test_forces_rotate_with_atoms_and_field(self, model):
        atoms = ethanol()
        rotation = Rotation.random(random_state=5).as_matrix()
        rotated = atoms.copy()
        rotated.positions = atoms.positions @ rotation.T
        forces = predict_energy(model, atoms, field=FIELD)["forces"]
        turned = predict_energy(model, rotated, field=rotation @ FIELD)["forces"]
        np.testing.assert_allclose(turned, forces @ rotation.T, atol=1e-9 * np.abs(forces).max())


def test_fresh_models_start_simple():
    """Zero-initialised last layers: the message-passing updates start as the identity."""
    model = build_model(small_config(), "density").double()
    atoms = ethanol()
    graph = AtomGraph.from_atoms(atoms, model.species, model.cutoff, FIELD)
    states = model.representation.atom_states(graph)
    torch.testing.assert_close(states.coefficients, model.representation.embedding[graph.species])
    values = predict_points(model, atoms, probe_points(atoms), field=FIELD, dtype=torch.float64)
    assert np.all(values == 0.0)  # readout starts at its bias (target mean 0)
    assert np.ptp(predict_points(randomized(model), atoms, probe_points(atoms), dtype=torch.float64)) > 0
