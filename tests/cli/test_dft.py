"""`echemml dft pyscf`: writes cube + JSON per molecule, resumes, refuses reserved QM9 indices."""

from __future__ import annotations

import json

import numpy as np

import pytest

pytest.importorskip("pyscf")

from echemml import read_density  # noqa: E402
from echemml.cli import main  # noqa: E402

pytestmark = pytest.mark.dft


def test_qm9_range_writes_densities_and_resumes(tmp_path, capsys):
    args = ["dft", "pyscf", "--qm9", "1-2", "--spacing", "0.2", "--out", str(tmp_path), "--quiet"]
    assert main(args) == 0
    cube = tmp_path / "qm9_000001.cube"
    record = json.loads((tmp_path / "qm9_000001.json").read_text())
    assert read_density(cube).integral() == pytest.approx(record["n_valence"], abs=1e-2)
    assert record["converged"] and len(record["forces_eV_per_A"]) == 5
    stamp = cube.stat().st_mtime_ns
    capsys.readouterr()
    assert main(args) == 0
    assert "2 of 2 already done" in capsys.readouterr().out
    assert cube.stat().st_mtime_ns == stamp


def test_structure_file_in_a_field(tmp_path):
    from ase.build import molecule

    molecule("H2O").write(tmp_path / "water.xyz")
    out = tmp_path / "out"
    assert main(["dft", "pyscf", str(tmp_path / "water.xyz"), "--field", "0", "0", "0.1",
                 "--spacing", "0.2", "--out", str(out), "--quiet"]) == 0
    record = json.loads((out / "water.json").read_text())
    assert record["field_V_per_A"] == [0.0, 0.0, 0.1]


def test_each_frame_of_an_extxyz_is_labelled_with_its_own_charge_and_field(tmp_path):
    """Frame 0: H3O+ (charge +1) in 0.2 V/Å along x; frame 1: neutral water in no field."""
    import ase.io
    from ase import Atoms
    from ase.build import molecule

    from echemml.io.candidates import CandidateStore

    hydronium = Atoms("OH3", positions=[(0, 0, 0.1), (0.95, 0, -0.2), (-0.47, 0.82, -0.2), (-0.47, -0.82, -0.2)])
    hydronium.info.update(charge=1, external_field=[0.2, 0.0, 0.0])
    ase.io.write(tmp_path / "ions.extxyz", [hydronium, molecule("H2O")])
    out, store = tmp_path / "out", tmp_path / "labels.h5"
    assert main(["dft", "pyscf", str(tmp_path / "ions.extxyz"), "--spacing", "0.25", "--out", str(out),
                 "--candidates", str(store), "--random-points", "50", "--ts-points", "50", "--quiet"]) == 0
    ion, water = (json.loads((out / f"ions_{i:04d}.json").read_text()) for i in (0, 1))
    assert ion["parameters"]["charge"] == 1 and ion["field_V_per_A"] == [0.2, 0.0, 0.0]
    assert water["parameters"]["charge"] == 0 and water["field_V_per_A"] == [0.0, 0.0, 0.0]
    assert ion["n_valence"] == water["n_valence"] == 8  # H3O+ has one proton more, not one electron more
    with CandidateStore(store) as labels:
        assert labels["ions_0000"].attrs["charge"] == 1 and labels["ions_0001"].attrs["charge"] == 0
        assert list(labels["ions_0000"].field) == [0.2, 0.0, 0.0]


def test_frames_keep_each_structures_energy_forces_charge_and_field_and_resume(tmp_path, capsys):
    """The labelled frames of --frames equal the JSON records of the same run, and a rerun skips them."""
    import ase.io
    from ase import Atoms

    from echemml.io.labelled_frames import read_labelled_frames

    hydronium = Atoms("OH3", positions=[(0, 0, 0.1), (0.95, 0, -0.2), (-0.47, 0.82, -0.2), (-0.47, -0.82, -0.2)])
    hydronium.info.update(charge=1, external_field=[0.0, 0.3, 0.0])
    ase.io.write(tmp_path / "ion.extxyz", [hydronium])
    command = ["dft", "pyscf", str(tmp_path / "ion.extxyz"), "--spacing", "0.25", "--out", str(tmp_path / "out"),
               "--frames", str(tmp_path / "frames.extxyz"), "--quiet"]
    assert main(command) == 0
    record = json.loads((tmp_path / "out" / "ion.json").read_text())
    (frame,), names = read_labelled_frames(tmp_path / "frames.extxyz")
    assert names == ["ion"] and frame.charge == 1 and frame.field.tolist() == [0.0, 0.3, 0.0]
    assert frame.energy == pytest.approx(record["energy_eV"], abs=1e-9)
    np.testing.assert_allclose(frame.forces, record["forces_eV_per_A"], atol=1e-8)  # extxyz keeps 8 decimals
    capsys.readouterr()
    assert main(command) == 0
    assert "1 of 1 already done" in capsys.readouterr().out


def test_frames_without_forces_exit_with_code_2(tmp_path, capsys):
    assert main(["dft", "pyscf", "--qm9", "1", "--frames", str(tmp_path / "f.extxyz"), "--no-forces"]) == 2
    assert "drop --no-forces" in capsys.readouterr().err


def test_reserved_qm9_index_exits_with_code_2(tmp_path, capsys):
    assert main(["dft", "pyscf", "--qm9", "120001", "--out", str(tmp_path)]) == 2
    assert "reserved for evaluation" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_unreadable_structure_file_exits_with_code_2(tmp_path, capsys):
    bad = tmp_path / "broken.xyz"
    bad.write_text("3\nwater\nO 0 0\n")
    assert main(["dft", "pyscf", str(bad), "--out", str(tmp_path / "out")]) == 2
    assert str(bad) in capsys.readouterr().err


def test_candidates_store_keeps_compact_labels_and_resumes(tmp_path, capsys):
    from echemml.io.candidates import CandidateStore

    store = tmp_path / "labels.h5"
    args = ["dft", "pyscf", "--qm9", "1-30", "--qm9-sample", "2", "--seed", "5", "--spacing", "0.2",
            "--candidates", str(store), "--random-points", "100", "--ts-points", "200", "--no-forces", "--quiet"]
    assert main(args) == 0
    with CandidateStore(store) as labels:
        names = labels.names()
        first = labels[names[0]]
    assert len(names) == 2 and len(first.ts_order) == 200 and len(first.random_order) == 100
    assert first.attrs["electrons_on_grid"] == pytest.approx(first.attrs["n_valence"], abs=0.05)
    capsys.readouterr()
    assert main(args[:5] + ["3"] + args[6:]) == 0  # a larger sample extends the same draw
    assert "2 of 3 already done" in capsys.readouterr().out


def test_sigterm_stops_a_batch_cleanly_and_it_resumes(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from echemml.io.candidates import CandidateStore

    store = tmp_path / "labels.h5"
    command = [sys.executable, "-m", "echemml", "dft", "pyscf", "--qm9", "1-40", "--spacing", "0.3", "--no-forces",
               "--candidates", str(store), "--random-points", "50", "--ts-points", "50", "--quiet"]
    job = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and (not store.exists() or store.stat().st_size < 20_000):
        time.sleep(0.5)
    job.send_signal(signal.SIGTERM)
    _, err = job.communicate(timeout=120)
    assert job.returncode == 130 and "interrupted" in err and "Traceback" not in err, err[-3000:]
    with CandidateStore(store) as labels:
        done = len(labels)
    assert 0 < done < 40


def test_two_workers_store_the_same_labels_as_one(tmp_path):
    """--workers 2 runs two molecules at once (one PySCF thread each); the labels do not change."""
    from echemml.io.candidates import CandidateStore

    common = ["dft", "pyscf", "--qm9", "1-3", "--spacing", "0.2", "--no-forces", "--random-points", "50",
              "--ts-points", "50", "--quiet"]
    assert main([*common, "--candidates", str(tmp_path / "serial.h5")]) == 0
    assert main([*common, "--candidates", str(tmp_path / "parallel.h5"), "--workers", "2"]) == 0
    with CandidateStore(tmp_path / "serial.h5") as serial, CandidateStore(tmp_path / "parallel.h5") as parallel:
        assert parallel.names() == serial.names() == ["qm9_000001", "qm9_000002", "qm9_000003"]
        for name in serial.names():
            assert parallel[name].random_order.tolist() == serial[name].random_order.tolist()
            assert parallel[name].random_values == pytest.approx(serial[name].random_values, abs=1e-6)


def test_zero_workers_exits_with_code_2(tmp_path, capsys):
    assert main(["dft", "pyscf", "--qm9", "1", "--out", str(tmp_path), "--workers", "0"]) == 2
    assert "--workers 0" in capsys.readouterr().err
