"""Committees: the mean of their members, saved and loaded like one model, built by `echemml committee`."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from tests.model.fireann_model_checks import FIELD, ethanol, gold_slab, probe_points, randomized, small_config

from echemml import keys
from echemml.cli import main
from echemml.errors import EchemmlError, InputFileError
from echemml.grid import DensityGrid
from echemml.model import (
    AtomGraph, CommitteeModel, GhostPoints, GridPredictor, build_model, load_model, model_batch, model_summary, predict_energy,
    predict_grid, predict_member_grids, predict_points, save_model,
)
from echemml.neighbors import point_atom_pairs
from echemml.sampling.features import point_features
from echemml.training.log import write_log


def members(head: str = "response", seeds=(1, 2, 3)):
    return [randomized(build_model(small_config(), head), seed=seed) for seed in seeds]


def test_points_get_the_members_mean():
    atoms, points = ethanol(), probe_points(ethanol())
    trio = members("density")
    each = [predict_points(member, atoms, points, FIELD, dtype=torch.float64) for member in trio]
    mean = predict_points(CommitteeModel(trio), atoms, points, FIELD, dtype=torch.float64)
    np.testing.assert_allclose(mean, np.mean(each, axis=0), rtol=1e-12, atol=1e-15)
    assert not np.allclose(each[0], each[1])  # the members really differ


def test_grid_gets_the_members_mean_on_the_same_grid():
    grid = DensityGrid(gold_slab(), np.zeros((8, 8, 30)))
    pair = members("response", seeds=(4, 5))
    each = [predict_grid(member, grid, field=FIELD, dtype=torch.float64) for member in pair]
    mean = predict_grid(CommitteeModel(pair), grid, field=FIELD, dtype=torch.float64)
    assert mean.shape == grid.shape and np.allclose(mean.origin, grid.origin)
    np.testing.assert_allclose(mean.values, (each[0].values + each[1].values) / 2, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_shared_neighbour_pass_gives_each_members_own_grid(dtype):
    # one pass over the point–atom pairs for all members, each with its own radial basis
    # (float32 interpolates each member's radial table); small chunks cross plane blocks
    grid = DensityGrid(gold_slab(), np.zeros((8, 8, 30)))
    trio = members("response")
    assert not torch.equal(trio[0].representation.features.radial_centers,
                           trio[1].representation.features.radial_centers)
    shared = predict_member_grids(CommitteeModel(trio), grid, field=FIELD, chunk_size=500, dtype=dtype)
    for member, values in zip(trio, shared):
        alone = predict_grid(member, grid, field=FIELD, dtype=dtype).values
        np.testing.assert_allclose(values, alone, rtol=1e-5 if dtype == torch.float32 else 1e-12, atol=1e-9)


@pytest.mark.parametrize("head", ["response", "density"])
def test_a_grid_predictor_gives_a_second_field_what_a_fresh_prediction_gives(head):
    # a response model's field-free half NN(ρ_0) is reused for the second field; a density model reuses nothing
    grid = DensityGrid(gold_slab(), np.zeros((8, 8, 30)))
    committee = CommitteeModel(members(head, seeds=(1, 2)))
    predictor = GridPredictor(committee, grid, chunk_size=500)
    for field in (FIELD, 2.5 * np.asarray(FIELD), -np.asarray(FIELD)):
        again = predictor.member_grids(field)
        fresh = predict_member_grids(committee, grid, field=field, chunk_size=500)
        for kept, new in zip(again, fresh):
            np.testing.assert_allclose(kept, new, rtol=1e-6, atol=1e-9)
    assert not np.allclose(again[0], predictor.member_grids(FIELD)[0])  # the field really changed them


def test_round_trip_keeps_every_member(tmp_path):
    committee = CommitteeModel(members())
    path = tmp_path / "committee.pt"
    save_model(committee, path, metadata={"note": "three seeds"})
    loaded = load_model(path)
    assert len(loaded.members) == 3
    assert loaded.head == "response" and loaded.metadata == {"note": "three seeds"}
    atoms, points = ethanol(), probe_points(ethanol())
    np.testing.assert_array_equal(predict_points(committee, atoms, points, FIELD),
                                  predict_points(loaded, atoms, points, FIELD))
    assert model_summary(loaded).endswith("committee of 3")


def test_members_must_share_head_and_hyperparameters():
    with pytest.raises(EchemmlError, match="at least 2 members"):
        CommitteeModel(members(seeds=(1,)))
    with pytest.raises(EchemmlError, match="a density model among response models"):
        CommitteeModel([*members(seeds=(1,)), randomized(build_model(small_config(), "density"))])
    with pytest.raises(EchemmlError, match="hyperparameters differ"):
        CommitteeModel([*members(seeds=(1,)), build_model(small_config(n_radial=5), "response")])
    with pytest.raises(EchemmlError, match="a committee; give its single-model members"):
        CommitteeModel([CommitteeModel(members()), *members(seeds=(4,))])


def ghost_batch(model, atoms, points):
    graph = AtomGraph.from_atoms(atoms, model.species, model.cutoff, FIELD)
    return model_batch(graph, GhostPoints.from_pairs(points, point_atom_pairs(points, atoms, model.cutoff)))


@pytest.mark.parametrize("head", ["density", "response"])
def test_forward_returns_the_members_mean_and_std_of_the_heads_key(head):
    trio = [member.double() for member in members(head)]
    atoms, points = ethanol(), probe_points(ethanol())
    batch = ghost_batch(trio[0], atoms, points)
    with torch.no_grad():
        out = CommitteeModel(trio)(batch)
        each = torch.stack([member(batch)[head] for member in trio])
    assert set(out) == {head, keys.std_key(head)}
    torch.testing.assert_close(out[head], each.mean(0))
    torch.testing.assert_close(out[keys.std_key(head)], each.std(0, correction=0))
    assert out[keys.std_key(head)].max() > 0


def test_an_energy_committee_gives_mean_and_std_of_energy_and_forces():
    pair = [randomized(build_model(small_config(), "energy"), seed=seed).double() for seed in (1, 2)]
    atoms = ethanol()
    result = predict_energy(CommitteeModel(pair), atoms, field=FIELD)
    each = [predict_energy(member, atoms, field=FIELD) for member in pair]
    assert result["energy"] == pytest.approx((each[0]["energy"] + each[1]["energy"]) / 2, rel=1e-12)
    assert result["energy_std"] == pytest.approx(abs(each[0]["energy"] - each[1]["energy"]) / 2, rel=1e-9)
    np.testing.assert_allclose(result["forces"], (each[0]["forces"] + each[1]["forces"]) / 2, atol=1e-12)
    np.testing.assert_allclose(result["forces_std"], np.abs(each[0]["forces"] - each[1]["forces"]) / 2, atol=1e-12)


def test_a_committee_has_no_lifs_features():
    with pytest.raises(TypeError, match="committee"):
        point_features(CommitteeModel(members()), ethanol(), probe_points(ethanol()))


def test_cli_writes_a_committee_that_predicts_the_mean(tmp_path, capsys):
    paths = []
    for index, member in enumerate(members()):
        paths.append(tmp_path / f"member{index}.pt")
        save_model(member, paths[-1], metadata={"seed": index})
    out = tmp_path / "committee.pt"
    assert main(["committee", *map(str, paths), "-o", str(out), "--note", "seeds 0-2"]) == 0
    assert "committee of 3" in capsys.readouterr().out
    loaded = load_model(out)
    assert loaded.metadata["note"] == "seeds 0-2"
    assert [m["seed"] for m in loaded.metadata["members"]] == [0, 1, 2]
    atoms, points = ethanol(), probe_points(ethanol())
    each = [predict_points(load_model(path), atoms, points, FIELD) for path in paths]
    np.testing.assert_allclose(predict_points(loaded, atoms, points, FIELD), np.mean(each, axis=0), rtol=1e-6)
    assert not (tmp_path / "committee.log.csv").exists()  # the members had no training logs beside them


def test_a_committee_takes_the_valence_table_its_members_share(tmp_path):
    paths = []
    for index, member in enumerate(members()):
        paths.append(tmp_path / f"member{index}.pt")
        save_model(member, paths[-1], metadata={"valence_charges": {"Au": 11.0}})
    out = tmp_path / "committee.pt"
    assert main(["committee", *map(str, paths), "-o", str(out)]) == 0
    assert load_model(out).metadata["valence_charges"] == {"Au": 11.0}


def test_a_committee_of_members_with_different_valence_tables_lists_them_per_member(tmp_path):
    paths = []
    for index, (member, valence) in enumerate(zip(members(), (11.0, 11.0, 19.0))):
        paths.append(tmp_path / f"member{index}.pt")
        save_model(member, paths[-1], metadata={"valence_charges": {"Au": valence}})
    out = tmp_path / "committee.pt"
    assert main(["committee", *map(str, paths), "-o", str(out)]) == 0
    metadata = load_model(out).metadata
    assert "valence_charges" not in metadata
    assert [m["valence_charges"]["Au"] for m in metadata["members"]] == [11.0, 11.0, 19.0]


def test_cli_combines_the_members_training_logs(tmp_path):
    paths = []
    for index, member in enumerate(members(seeds=(1, 2))):
        run = tmp_path / f"run{index}"
        run.mkdir()
        save_model(member, run / "model.pt")
        history = [{"epoch": epoch, "train_loss": 1.0 / epoch, "val_loss": 1.5 / epoch + index, "val_rmse": 0.01,
                    "lr": 1e-3, "seconds": 1.0} for epoch in range(1, 4 + index)]
        write_log(history, run / "log.csv")
        paths.append(run / "model.pt")
    assert main(["committee", *map(str, paths), "-o", str(tmp_path / "committee.pt")]) == 0
    rows = list(csv.DictReader(open(tmp_path / "committee.log.csv")))
    assert [row["member"] for row in rows] == ["member 1"] * 3 + ["member 2"] * 4
    assert float(rows[3]["val_loss"]) == pytest.approx(2.5)
    assert (tmp_path / "committee.learning_curve.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_refuses_a_committee_as_a_member_and_a_missing_file(tmp_path, capsys):
    path = tmp_path / "committee.pt"
    save_model(CommitteeModel(members()), path)
    assert main(["committee", str(path), str(path), "-o", str(tmp_path / "nested.pt")]) == 2
    assert main(["committee", str(path), str(tmp_path / "missing.pt"), "-o", str(tmp_path / "x.pt")]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert "already a committee" in errors[0] and "missing.pt: no such model file" in errors[1]
    assert not (tmp_path / "nested.pt").exists() and not (tmp_path / "x.pt").exists()


def test_a_committee_file_of_one_member_is_refused(tmp_path):
    path = tmp_path / "one.pt"
    save_model(CommitteeModel(members(seeds=(1, 2))), path)
    payload = torch.load(path, weights_only=True)
    payload["committee"] = payload["committee"][:1]
    torch.save(payload, path)
    with pytest.raises(InputFileError, match="one.pt.*at least 2 members"):
        load_model(path)
