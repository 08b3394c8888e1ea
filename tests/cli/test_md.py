"""`echemml md`: Langevin MD on an energy model, frames and per-frame properties written, resumable."""

from __future__ import annotations

from pathlib import Path

import ase.io
import h5py
import numpy as np
import pytest
from ase.build import molecule

from echemml.calculators.recorder import read_record
from echemml.cli import main
from echemml.model import build_model, save_model
from tests.model.fireann_model_checks import randomized, small_config


@pytest.fixture
def models(tmp_path):
    """A random energy model and a random density model (with valence charges) for H and O, as files."""
    energy = randomized(build_model(small_config(species=(1, 8)), "energy"), seed=1)
    density = randomized(build_model(small_config(species=(1, 8)), "density"), seed=2)
    save_model(energy, tmp_path / "energy.pt")
    save_model(density, tmp_path / "density.pt", metadata={"valence_charges": {"H": 1, "O": 6}})
    molecule("H2O").write(tmp_path / "water.xyz")
    return tmp_path


def md(folder, steps: int, *extra: str) -> int:
    return main(["md", str(folder / "water.xyz"), "--potential", str(folder / "energy.pt"),
                 "--density-model", str(folder / "density.pt"), "--steps", str(steps), "--temperature", "300",
                 "--timestep", "0.25", "--every", "2", "--record", "energy,electrons,dipole", "--spacing", "0.4",
                 "--field", "0", "0", "0.2", "-o", str(folder / "run"), "--quiet", *extra])


def test_frames_and_records_every_k_steps(models):
    assert md(models, 6) == 0
    frames = ase.io.read(models / "run" / "md.traj", index=":")
    record = read_record(models / "run" / "record.h5")
    assert [frame.info["md_step"] for frame in frames] == [0, 2, 4, 6]
    np.testing.assert_array_equal(record["step"], [0, 2, 4, 6])
    np.testing.assert_allclose(record["time"], [0.0, 0.5, 1.0, 1.5])  # fs
    assert record["dipole"].shape == (4, 3) and record["electrons"].shape == (4,)
    with h5py.File(models / "run" / "record.h5") as handle:
        assert handle["energy"].attrs["unit"] == "eV" and handle["dipole"].attrs["unit"] == "e·Å"
    assert not np.allclose(frames[0].positions, frames[-1].positions)


def test_a_second_call_continues_from_the_last_frame_without_repeating_it(models):
    assert md(models, 4) == 0
    first = read_record(models / "run" / "record.h5")
    assert md(models, 8) == 0
    record = read_record(models / "run" / "record.h5")
    np.testing.assert_array_equal(record["step"], [0, 2, 4, 6, 8])
    np.testing.assert_array_equal(record["energy"][:3], first["energy"])
    assert [f.info["md_step"] for f in ase.io.read(models / "run" / "md.traj", index=":")] == [0, 2, 4, 6, 8]


def test_recording_a_property_no_model_gives_exits_with_code_2(models, capsys):
    code = main(["md", str(models / "water.xyz"), "--potential", str(models / "energy.pt"), "--steps", "2",
                 "--temperature", "300", "--record", "energy,charges", "-o", str(models / "run"), "--quiet"])
    assert code == 2
    assert "--record charges: not given by these models" in capsys.readouterr().err


def test_a_frame_left_incomplete_by_a_kill_is_cut_back_on_reopening(models):
    from ase.md.verlet import VelocityVerlet

    from echemml.calculators import EChemCalculator
    from echemml.calculators.recorder import PropertyRecorder

    atoms = molecule("H2O")
    atoms.calc = EChemCalculator(potential=str(models / "energy.pt"))
    dynamics = VelocityVerlet(atoms, 0.1)
    dynamics.attach(PropertyRecorder(dynamics, models / "record.h5", ["energy", "forces"]), interval=1)
    dynamics.run(2)
    with h5py.File(models / "record.h5", "a") as handle:  # a kill after one dataset grew, before "frames"
        handle["energy"].resize(4, axis=0)
    PropertyRecorder(dynamics, models / "record.h5", ["energy", "forces"])
    record = read_record(models / "record.h5")
    assert {name: len(values) for name, values in record.items()} == {"step": 3, "time": 3, "energy": 3, "forces": 3}
    with h5py.File(models / "record.h5") as handle:
        assert len(handle["energy"]) == 3


SLAB = Path(__file__).resolve().parents[2] / "data" / "au100" / "structures_mt" / "test_L4_0.xyz"  # 4-layer Au(100)


def test_a_slab_held_at_a_potential_drop_keeps_it_every_frame(tmp_path):
    """EMT moves the gold, au100-response finds the field: every recorded frame has the asked drop."""
    assert main(["md", str(SLAB), "--potential", "emt", "--response-model", "au100-response", "--potential-drop", "2.0",
                 "--steps", "4", "--every", "2", "--temperature", "300", "--timestep", "2", "--spacing", "0.3",
                 "--record", "esp_drop,field,charge_transfer", "-o", str(tmp_path / "run"), "--quiet"]) == 0
    record = read_record(tmp_path / "run" / "record.h5")
    assert len(record["step"]) == 3
    np.testing.assert_allclose(record["esp_drop"], 2.0, rtol=1e-3)
    assert np.all(record["field"][:, 2] != 0) and np.all(record["field"][:, :2] == 0)
    assert len(set(record["esp_drop"])) == 3  # each configuration's own drop, not the first frame's


def test_chgnet_moves_a_metal_slab_with_its_pretrained_weights(tmp_path):
    """--potential chgnet: the universal potential in CHGNet's wheel gives the recorded energies (offline)."""
    from ase.io.trajectory import Trajectory

    from echemml.calculators import chgnet_calculator

    assert main(["md", str(SLAB), "--potential", "chgnet", "--steps", "2", "--every", "1", "--temperature", "300",
                 "--timestep", "2", "--record", "energy", "-o", str(tmp_path / "run"), "--quiet"]) == 0
    record = read_record(tmp_path / "run" / "record.h5")
    with Trajectory(tmp_path / "run" / "md.traj") as frames:
        last = frames[-1]
    last.calc = chgnet_calculator()
    assert record["energy"][-1] == pytest.approx(last.get_potential_energy(), abs=1e-4)


def test_a_field_and_a_potential_drop_together_exit_with_code_2(tmp_path, capsys):
    assert main(["md", str(SLAB), "--potential", "emt", "--response-model", "au100-response", "--potential-drop", "2.0",
                 "--field", "0", "0", "-1", "--steps", "2", "--temperature", "300", "-o", str(tmp_path / "run")]) == 2
    assert "not both" in capsys.readouterr().err


def test_a_recorded_run_reads_into_mdanalysis_with_its_series_as_auxiliary_data(models):
    """Frames as a Universe (Å, ps), and ts.aux of each frame equals that frame's row of record.h5."""
    from echemml.calculators.universe import run_universe

    assert md(models, 6) == 0
    universe = run_universe(models / "run")
    record = read_record(models / "run" / "record.h5")
    frames = ase.io.read(models / "run" / "md.traj", index=":")
    assert len(universe.trajectory) == len(record["step"]) == 4
    assert list(universe.atoms.elements) == ["O", "H", "H"]
    for ts, atoms in zip(universe.trajectory, frames):
        np.testing.assert_allclose(universe.atoms.positions, atoms.positions, atol=1e-5)
        assert ts.time == pytest.approx(record["time"][ts.frame] / 1000)
        assert ts.aux.energy == pytest.approx(record["energy"][ts.frame])
        np.testing.assert_allclose(ts.aux.dipole, record["dipole"][ts.frame], rtol=1e-9)
