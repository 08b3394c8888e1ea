"""HDF5 sample sets: append without rewriting, read back exactly, skip incomplete groups."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from ase.build import molecule

from echemml import InputFileError
from echemml.io.samples import SampledConfiguration, SampleSet


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
