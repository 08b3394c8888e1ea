"""Labelled frames: structures with their DFT energy and forces in one extxyz, read back as energy labels."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import molecule

from echemml.errors import InputFileError
from echemml.io.labelled_frames import append_labelled_frames, frame_names, labelled_frame, read_labelled_frames


def water_frame(name: str, field=None, charge: int = 0):
    atoms = molecule("H2O")
    forces = np.arange(9.0).reshape(3, 3) / 10
    return labelled_frame(atoms, name, energy=-466.25, forces=forces, charge=charge, field=field)


@pytest.mark.parametrize("suffix", [".extxyz", ".extxyz.gz"])
def test_frames_read_back_with_energy_forces_charge_and_field(tmp_path, suffix):
    path = tmp_path / f"frames{suffix}"
    append_labelled_frames(path, [water_frame("a", field=[0.1, 0.0, -0.2], charge=1)])
    (config,), names = read_labelled_frames(path)
    assert names == ["a"] and config.energy == -466.25 and config.charge == 1
    np.testing.assert_allclose(config.forces, np.arange(9.0).reshape(3, 3) / 10)
    np.testing.assert_allclose(config.field, [0.1, 0.0, -0.2])
    assert len(config.targets) == 0  # an energy label, no grid points


def test_a_frame_in_no_field_reads_as_zero_field(tmp_path):
    append_labelled_frames(tmp_path / "f.extxyz", [water_frame("a")])
    (config,), _ = read_labelled_frames(tmp_path / "f.extxyz")
    assert config.field.tolist() == [0.0, 0.0, 0.0] and config.charge == 0


def test_appending_keeps_the_frames_already_written(tmp_path):
    path = tmp_path / "frames.extxyz"
    append_labelled_frames(path, [water_frame("a")])
    append_labelled_frames(path, [water_frame("b"), water_frame("c")])
    assert frame_names(path) == {"a", "b", "c"}
    assert [p.name for p in tmp_path.iterdir()] == ["frames.extxyz"]  # no temporary file left


def test_a_frame_without_forces_is_refused_naming_the_file(tmp_path):
    import ase.io

    ase.io.write(tmp_path / "bare.extxyz", molecule("H2O"))
    with pytest.raises(InputFileError, match="bare.extxyz.*frame 0 has no energy and forces"):
        read_labelled_frames(tmp_path / "bare.extxyz")
