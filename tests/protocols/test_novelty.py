"""LIFS novelty against the training data's feature basis, committee deviation, trust levels, `echemml novelty`.

Real models (the shipped h5o2-density and h5o2-energy) and a real sample set: six
bootstrap configurations of H5O2+ (three proton scans, three rattled ions) sampled
from the committed PySCF labels with 100 TS + 100 uniform points each.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from ase.build import molecule

from echemml.cli import main
from echemml.errors import EchemmlError, InputFileError
from echemml.io import read_cube
from echemml.io.samples import SampleSet
from echemml.model import CommitteeModel, load_model
from echemml.pretrained import model_path
from echemml.protocols import (
    NoveltyBasis,
    TrustLevels,
    build_basis,
    committee_deviation,
    novelty_grid,
    residuals,
    score_frame,
)

H5O2_LABELS = Path(__file__).parents[2] / "data" / "h5o2_labels.h5"  # committed PySCF labels
THRESHOLD = 0.01


@pytest.fixture(scope="module")
def samples_path(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("novelty") / "samples.h5"
    assert main(["sample", "--candidates", str(H5O2_LABELS), "--names", "bootstrap_000[0-2]", "bootstrap_010[0-2]",
                 "--method", "ts", "--n-points", "200", "--uniform-fraction", "0.5", "-o", str(out),
                 "--workers", "1", "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def configurations(samples_path):
    with SampleSet(samples_path) as samples:
        return list(samples)


@pytest.fixture(scope="module")
def density_model():
    return load_model("h5o2-density")


@pytest.fixture(scope="module")
def basis(density_model, configurations) -> NoveltyBasis:
    return build_basis(density_model, configurations, threshold=THRESHOLD, model_name="h5o2-density")


def stretched_oh(atoms, length: float = 1.6):
    """H5O2+ with its outer H 3 moved along its bond to ``length`` Å from its oxygen (atom 0)."""
    atoms = atoms.copy()
    bond = atoms.positions[3] - atoms.positions[0]
    atoms.positions[3] = atoms.positions[0] + bond / np.linalg.norm(bond) * length
    return atoms


def test_a_training_configuration_is_not_novel_and_a_new_environment_is(density_model, basis, configurations):
    """Measured: training frames max 0.011–0.019 (their atoms ≤ the threshold by construction);
    O–H stretched to 1.6 Å 0.32–0.39 on that H; H2O2 0.30."""
    config = configurations[4]
    known = score_frame(density_model, config.atoms, basis, field=config.field)
    assert known.max < 0.05 and known.mean < 0.01
    assert known.atom_residuals.max() <= THRESHOLD + 1e-12  # LIFS screened exactly these atoms
    stretched = score_frame(density_model, stretched_oh(config.atoms), basis, field=config.field)
    assert stretched.max > 0.15 and stretched.atoms_max > 5 * known.max
    assert stretched.most_novel_atom == 3
    peroxide = score_frame(density_model, molecule("H2O2"), basis)
    assert peroxide.max > 0.15


def test_residuals_against_a_subspace():
    rng = np.random.default_rng(0)
    rows = np.linalg.qr(rng.normal(size=(6, 3)))[0].T  # 3 orthonormal rows in R^6
    inside = np.array([0.3, -1.2, 2.0]) @ rows
    outside = rng.normal(size=6)
    outside -= rows.T @ (rows @ outside)
    halfway = inside / np.linalg.norm(inside) + outside / np.linalg.norm(outside)
    values = residuals(rows, np.stack([inside, outside, 5 * outside, halfway, np.zeros(6)]))
    np.testing.assert_allclose(values, [0.0, 1.0, 1.0, np.sqrt(0.5), 0.0], atol=1e-12)
    np.testing.assert_allclose(residuals(np.zeros((0, 6)), np.stack([inside, np.zeros(6)])), [1.0, 0.0])
    with pytest.raises(ValueError, match="basis rows"):
        residuals(rows.T, np.stack([inside]))  # (6, 3) rows for vectors of length 6


def test_basis_round_trip_and_a_corrupt_file(density_model, basis, configurations, tmp_path):
    path = tmp_path / "basis.h5"
    basis.save(path)
    loaded = NoveltyBasis.load(path)
    np.testing.assert_array_equal(loaded.ghost, basis.ghost)
    assert loaded.atoms.keys() == basis.atoms.keys() == {"H", "O"}
    for symbol in basis.atoms:
        np.testing.assert_array_equal(loaded.atoms[symbol], basis.atoms[symbol])
    assert (loaded.threshold, loaded.model, loaded.fingerprint) == (THRESHOLD, "h5o2-density", basis.fingerprint)
    assert loaded.n_configurations == 6 and loaded.n_atoms_seen == {"H": 30, "O": 12}
    config = configurations[0]
    assert score_frame(density_model, config.atoms, loaded, config.field).max == \
        score_frame(density_model, config.atoms, basis, config.field).max
    corrupt = tmp_path / "corrupt.h5"
    corrupt.write_bytes(path.read_bytes()[:200])
    for bad in (corrupt, tmp_path / "missing.h5"):
        with pytest.raises(InputFileError) as error:
            NoveltyBasis.load(bad)
        assert str(bad) in str(error.value) and "\n" not in str(error.value)


def test_a_basis_refuses_another_models_features(basis, configurations):
    with pytest.raises(EchemmlError, match="another model"):
        score_frame(load_model("h5o2-energy"), configurations[0].atoms, basis)


def test_trust_levels_classify_as_dpgen():
    levels = TrustLevels(0.05, 0.3)
    assert [levels.classify(s) for s in (0.0, 0.049, 0.05, 0.29, 0.3, 2.0, float("nan"))] == \
        ["trusted", "trusted", "candidate", "candidate", "failed", "failed", "failed"]
    for lo, hi in ((0.3, 0.05), (0.1, 0.1), (-0.1, 0.2), (0.0, float("inf"))):
        with pytest.raises(EchemmlError, match="lo < hi"):
            TrustLevels(lo, hi)



def test_raising_lo_never_lowers_it_and_stays_below_hi():
    levels = TrustLevels(0.05, 0.3)
    assert levels.raised_to(0.01) == levels and levels.raised_to(0.1) == TrustLevels(0.1, 0.3)
    raised = levels.raised_to(5.0)  # a quantile above hi: no candidates, hi's rule unchanged
    assert raised.lo < raised.hi == 0.3 and raised.classify(0.2999) == "trusted" and raised.classify(0.3) == "failed"


def test_committee_deviation(density_model, configurations):
    """Measured: the shipped energy committee 0.03 eV/Å on a training ion, 1.5 eV/Å with O–H at 1.6 Å."""
    atoms, field = configurations[4].atoms, configurations[4].field
    with pytest.raises(EchemmlError, match="committee"):
        committee_deviation(density_model, atoms, field)
    energy = load_model("h5o2-energy")
    assert 0 < committee_deviation(energy, atoms, field) < committee_deviation(energy, stretched_oh(atoms), field)
    perturbed = copy.deepcopy(density_model)
    with torch.no_grad():
        for parameter in perturbed.readout.parameters():
            parameter.mul_(1.05)
    assert committee_deviation(CommitteeModel([density_model, perturbed]), atoms, field) > 1.0  # %
    assert committee_deviation(CommitteeModel([density_model, copy.deepcopy(density_model)]), atoms, field) == 0.0


def test_novelty_map_is_zero_beyond_the_cutoff_and_flags_the_stretched_bond(density_model, basis, configurations):
    """Measured (0.3 Å grid): map max 0.016 for the training ion, 0.026 with O–H at 1.6 Å, whose 20 most
    novel points all lie nearest to that O (0), H (3) or the shared proton (2)."""
    config = configurations[4]
    known = novelty_grid(density_model, config.atoms, basis, spacing=0.3, field=config.field)
    np.testing.assert_allclose(known.spacing, 0.3)
    distance = np.linalg.norm(known.points()[:, None] - config.atoms.positions[None], axis=2).min(axis=1)
    values = known.values.reshape(-1)
    assert np.all(values[distance > density_model.cutoff + 1e-6] == 0) and np.all(values[distance < 3.0] > 0)
    atoms = stretched_oh(config.atoms)
    stretched = novelty_grid(density_model, atoms, basis, spacing=0.3, field=config.field)
    assert values.max() < 0.05 and stretched.values.max() > 1.3 * values.max()
    top = stretched.points(np.argsort(stretched.values.reshape(-1))[-20:])
    nearest = np.linalg.norm(top[:, None] - atoms.positions[None], axis=2).argmin(axis=1)
    assert set(nearest) <= {0, 2, 3}


def test_cli_builds_a_basis_scores_and_writes_a_map(samples_path, tmp_path, capsys):
    model = tmp_path / "ion.pt"
    shutil.copy(model_path("h5o2-density"), model)
    assert main(["novelty", str(model), "--build", str(samples_path)]) == 0
    assert (tmp_path / "ion.novelty.h5").is_file()  # the default: next to the model
    capsys.readouterr()
    with SampleSet(samples_path) as samples:
        atoms = stretched_oh(samples[4].atoms)
        field = samples[4].field
    atoms.write(tmp_path / "ion.xyz")
    cube = tmp_path / "novelty.cube"
    assert main(["novelty", str(model), str(tmp_path / "ion.xyz"), "--json", "-o", str(cube), "--spacing", "0.35",
                 "--field", *map(str, field)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["max"] > 0.15 and 0 < result["mean"] < result["max"]
    assert result["max"] == max(result["atoms_max"], result["ghost_max"])
    assert result["most_novel_atom"]["index"] == 3 and result["most_novel_atom"]["element"] == "H"
    grid = read_cube(cube)
    np.testing.assert_allclose(grid.spacing, 0.35, atol=1e-5)
    residual = grid.values  # the file holds the dimensionless residual itself, and read_cube reads it so
    assert 0 < residual.max() <= 1 and residual.max() == pytest.approx(result["map"]["max"], rel=1e-5)


def test_cli_bad_input_exits_2_with_one_line(tmp_path, capsys):
    model = tmp_path / "ion.pt"
    shutil.copy(model_path("h5o2-density"), model)
    molecule("H2O").write(tmp_path / "water.xyz")
    molecule("NaCl").write(tmp_path / "salt.xyz")
    for args, file, problem in (
        ([str(model), str(tmp_path / "water.xyz")], tmp_path / "ion.novelty.h5", "no such novelty basis file"),
        ([str(model), str(tmp_path / "none.xyz"), "--basis", "b.h5"], tmp_path / "none.xyz", "no such"),
        ([str(model), str(tmp_path / "salt.xyz")], tmp_path / "salt.xyz", "Na, Cl unknown to the model"),
        (["h5o2-density", "--build", str(tmp_path / "none.h5")], None, "shipped model"),
    ):
        assert main(["novelty", *args]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and problem in error and "Traceback" not in error
        assert file is None or str(file) in error


def test_the_shipped_basis_of_h5o2_density_scores_the_zundel_ion_as_known(capsys):
    """`echemml novelty h5o2-density ION` finds the basis shipped beside the model (built from its own
    training samples, studies/novelty_map): the as-built ion scores 0.0046 there, well inside its data."""
    zundel = Path(__file__).parents[2] / "studies" / "h5o2" / "zundel.xyz"
    assert main(["novelty", "h5o2-density", str(zundel), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["basis"] == str(model_path("h5o2-density").with_suffix(".novelty.h5"))
    assert result["max"] < 0.01
