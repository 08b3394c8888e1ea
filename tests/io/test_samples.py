"""HDF5 sample sets: append without rewriting, read back exactly, skip incomplete groups."""

from __future__ import annotations

import dataclasses

import h5py
import numpy as np
import pytest
from ase.build import molecule

from echemml import InputFileError
from echemml.io.samples import SampledConfiguration, SampleSet, element_valence_charges


def configuration(seed: int, target: str = "density") -> SampledConfiguration:
    rng = np.random.default_rng(seed)
    water = molecule("H2O")
    water.cell = [6.0, 6.0, 6.0]
    return SampledConfiguration(
        atoms=water,
        points=rng.normal(size=(20, 3)),
        targets=rng.random(20),
        field=[0.0, 0.0, -1.0 * seed],
        target=target,
        indices=rng.integers(0, 10_000, 20),
        provenance={"source": f"w{seed}.cube", "source_sha256": f"{seed:064x}", "n_grid_points": 10_000,
                    "sampler": {"method": "ts+lifs", "ts_sigma": 30.0}},
    )


def test_appended_configurations_read_back_exactly(tmp_path):
    path = tmp_path / "samples.h5"
    with SampleSet(path, "a") as samples:
        samples.append(configuration(1))
        samples.append(configuration(2, "response"))
    with SampleSet(path) as samples:
        assert len(samples) == 2 and samples.n_points() == 40
        second = samples[1]
    expected = configuration(2, "response")
    np.testing.assert_array_equal(second.points, expected.points)
    np.testing.assert_array_equal(second.targets, expected.targets)
    np.testing.assert_array_equal(second.atoms.numbers, expected.atoms.numbers)
    assert second.target == "response" and second.field.tolist() == [0.0, 0.0, -2.0]
    assert second.provenance["sampler"] == {"method": "ts+lifs", "ts_sigma": 30.0}
    assert second.provenance["source"] == "w2.cube"


def test_append_keeps_earlier_groups_untouched(tmp_path):
    path = tmp_path / "samples.h5"
    with SampleSet(path, "a") as samples:
        samples.append(configuration(1))
    with h5py.File(path) as handle:
        first_targets = handle["configs/000000/targets"][()]
    with SampleSet(path, "a") as samples:
        samples.append(configuration(2))
        assert set(samples.sources()) == {f"{1:064x}", f"{2:064x}"}
    with SampleSet(path) as samples:
        np.testing.assert_array_equal(samples[0].targets, first_targets)


def test_valence_charges_read_back(tmp_path):
    path = tmp_path / "samples.h5"
    with SampleSet(path, "a") as samples:
        samples.append(dataclasses.replace(configuration(1), valence_charges=[6, 1, 1]))
    with SampleSet(path) as samples:
        assert samples[0].valence_charges.tolist() == [6.0, 1.0, 1.0]


def test_a_file_in_the_layout_before_valence_charges_reads_them_as_none(tmp_path):
    """Without valence charges nothing new is written: the group is as older files have it."""
    path = tmp_path / "samples.h5"
    with SampleSet(path, "a") as samples:
        samples.append(configuration(1))
    with h5py.File(path) as handle:
        assert sorted(handle["configs/000000"]) == ["cell", "field", "indices", "numbers", "pbc", "points",
                                                    "positions", "targets"]
    with SampleSet(path) as samples:
        assert samples[0].valence_charges is None


def test_valence_charges_must_be_one_per_atom():
    with pytest.raises(ValueError, match="2 valence charges for 3 atoms"):
        dataclasses.replace(configuration(1), valence_charges=[6, 1])


def with_valence(configuration: SampledConfiguration, table: dict[str, float]) -> SampledConfiguration:
    symbols = configuration.atoms.get_chemical_symbols()
    return dataclasses.replace(configuration, valence_charges=[table[symbol] for symbol in symbols])


def test_element_valence_charges_are_those_the_configurations_agree_on():
    agreeing = [with_valence(configuration(1), {"O": 6, "H": 1}), configuration(2),
                with_valence(configuration(3), {"O": 6, "H": 1})]
    assert element_valence_charges(agreeing) == {"O": 6.0, "H": 1.0}


def test_element_valence_charges_are_none_when_configurations_disagree():
    disagreeing = [with_valence(configuration(1), {"O": 6, "H": 1}), with_valence(configuration(2), {"O": 8, "H": 1})]
    assert element_valence_charges(disagreeing) is None


def test_element_valence_charges_are_none_when_an_element_has_none():
    methane = SampledConfiguration(molecule("CH4"), np.zeros((1, 3)), [0.1])
    assert element_valence_charges([with_valence(configuration(1), {"O": 6, "H": 1}), methane]) is None


def test_element_valence_charges_are_none_when_no_configuration_carries_them():
    assert element_valence_charges([configuration(1), configuration(2)]) is None


def test_incomplete_group_is_skipped(tmp_path):
    path = tmp_path / "samples.h5"
    with SampleSet(path, "a") as samples:
        samples.append(configuration(1))
        del samples._file["configs/000000"].attrs["complete"]
    with SampleSet(path) as samples:
        assert len(samples) == 0


def test_foreign_hdf5_file_is_refused(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as handle:
        handle["x"] = [1, 2, 3]
    with pytest.raises(InputFileError, match="not an echemml-samples file"):
        SampleSet(path)


def test_non_hdf5_file_is_refused(tmp_path):
    path = tmp_path / "samples.h5"
    path.write_text("not hdf5")
    with pytest.raises(InputFileError, match="not a readable HDF5 file"):
        SampleSet(path)
