"""Shared fixtures: a tiny real training set (PySCF densities of five small molecules)."""

from __future__ import annotations

import numpy as np
import pytest

from echemml.io.samples import SampledConfiguration, SampleSet
from echemml.sampling import random_sampling, targeted_sampling
from echemml.training import Config

MOLECULES = ("H2O", "NH3", "CH4", "HF", "C2H2")
TS_POINTS, RANDOM_POINTS = 150, 50


@pytest.fixture(autouse=True)
def one_thread():
    """Small batches train fastest on one thread when background jobs share the two cores."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def pyscf_grids():
    """PySCF GTH-PBE valence densities (e/Å³) of five small molecules on 0.2 Å grids."""
    pytest.importorskip("pyscf")
    from ase.build import molecule

    from echemml.dft.pyscf import PySCFSettings, run_pyscf

    settings = PySCFSettings(spacing=0.2, margin=3.0)
    return {name: run_pyscf(molecule(name), settings=settings, compute_forces=False).grid for name in MOLECULES}


@pytest.fixture(scope="session")
def sample_file(pyscf_grids, tmp_path_factory):
    """A sample set of 150 TS (σ = 30 Å³/e) + 50 random points per molecule."""
    path = tmp_path_factory.mktemp("samples") / "molecules.h5"
    with SampleSet(path, "a") as samples:
        for seed, grid in enumerate(pyscf_grids.values()):
            density = grid.values.reshape(-1)
            targeted = targeted_sampling(density, TS_POINTS, sigma=30.0, seed=seed)
            uniform = random_sampling(density.size, RANDOM_POINTS, seed=100 + seed, exclude=targeted)
            indices = np.concatenate([targeted, uniform])
            samples.append(
                SampledConfiguration(grid.atoms, grid.points(indices), density[indices], indices=indices)
            )
    return path


def small_config(**training) -> Config:
    """The QM9 configuration with a smaller network and batch for quick tests."""
    config = Config()
    config.model.n_radial = 4
    config.model.n_iterations = 1
    config.model.orbital_hidden = [8]
    config.model.readout_hidden = [16, 16]
    config.training.batch_size = 2
    config.training.checkpoint_every = 1
    for key, value in training.items():
        setattr(config.training, key, value)
    return config


def gaussian_density(atoms, points: np.ndarray) -> np.ndarray:
    """A smooth stand-in density, e/Å³: Σ_atoms Z · exp(−|r − R|² / 0.5 Å²) / 10."""
    squared = ((points[:, None, :] - atoms.positions[None]) ** 2).sum(-1)
    return (atoms.numbers[None] * np.exp(-squared / 0.5)).sum(-1) / 10.0


GTH_VALENCE = {"H": 1, "C": 4, "N": 5, "O": 6, "F": 7}  # e, PySCF's GTH-PBE pseudopotentials


def write_toy_samples(path, with_valence: bool = False):
    """Four molecules with 60 points each of an analytic density (no DFT), optionally with GTH valence charges."""
    from ase.build import molecule

    rng = np.random.default_rng(7)
    with SampleSet(path, "a") as samples:
        for name in ("H2O", "NH3", "CH4", "HF"):
            atoms = molecule(name)
            points = atoms.positions[rng.integers(len(atoms), size=60)] + rng.normal(scale=0.8, size=(60, 3))
            valence = [GTH_VALENCE[symbol] for symbol in atoms.get_chemical_symbols()] if with_valence else None
            samples.append(SampledConfiguration(atoms, points, gaussian_density(atoms, points), valence_charges=valence))
    return path


@pytest.fixture(scope="session")
def toy_sample_file(tmp_path_factory):
    """Four molecules with 60 points each of an analytic density (no DFT): fast training tests."""
    return write_toy_samples(tmp_path_factory.mktemp("toy") / "toy.h5")
