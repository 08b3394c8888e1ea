"""`echemml dft cp2k`: zero-field density and field responses as compact labels (real CP2K runs)."""

from __future__ import annotations

import shutil

import pytest
from ase import Atoms

from echemml.cli import main
from echemml.io.candidates import CandidateStore

pytestmark = [
    pytest.mark.dft,
    pytest.mark.skipif(shutil.which("cp2k.psmp") is None, reason="CP2K not installed (apt-get install cp2k)"),
]


def test_h2_in_zero_field_and_a_field_gives_density_and_response_labels(tmp_path, capsys):
    structure = tmp_path / "h2.xyz"
    Atoms("H2", positions=[(2, 2, 3.63), (2, 2, 4.37)], cell=[4, 4, 8], pbc=[True, True, False]).write(structure)
    store = tmp_path / "labels.h5"
    args = ["dft", "cp2k", str(structure), "--field", "0", "0", "0.5", "--cutoff", "200", "--no-forces",
            "--candidates", str(store), "--ts-points", "200", "--random-points", "100", "--quiet"]
    assert main(args) == 0
    with CandidateStore(store) as labels:
        assert labels.names() == ["h2_E0", "h2_Ez+0.50"]
        density, response = labels["h2_E0"], labels["h2_Ez+0.50"]
    assert density.attrs["target"] == "density"
    assert density.attrs["electrons_on_grid"] == pytest.approx(2.0, abs=1e-3)
    assert response.attrs["target"] == "response" and response.field.tolist() == [0.0, 0.0, 0.5]
    assert response.attrs["electrons_on_grid"] == pytest.approx(0.0, abs=1e-3)
    capsys.readouterr()
    assert main(args) == 0
    assert "1 of 1 already done" in capsys.readouterr().out


def test_sigterm_stops_the_running_cp2k_too(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    import psutil
    from ase.build import fcc100

    slab = fcc100("Au", size=(2, 2, 3), vacuum=6.0)
    slab.pbc = (True, True, False)
    slab.write(tmp_path / "slab.xyz")
    command = [sys.executable, "-m", "echemml", "dft", "cp2k", str(tmp_path / "slab.xyz"), "--no-forces",
               "--threads", "1", "--out", str(tmp_path / "out"), "--quiet"]
    job = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    children = []
    while time.time() < deadline and not children:
        children = [c for c in psutil.Process(job.pid).children(recursive=True) if "cp2k" in c.name()]
        time.sleep(0.5)
    assert children, "cp2k.psmp never started"
    job.send_signal(signal.SIGTERM)
    _, err = job.communicate(timeout=60)
    assert job.returncode == 130 and "interrupted" in err
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive
    assert not (tmp_path / "out" / "slab_E0.cube").exists()


def test_two_slabs_on_two_workers_give_the_labels_one_worker_gives(tmp_path):
    """--workers 2 runs two CP2K jobs at once (one thread each); the stored labels do not change."""
    from echemml.dft.cp2k import Cp2kSettings
    from echemml.dft.labelling import SlabLabelJob, label_slabs

    molecules = {
        name: Atoms("H2", positions=[(2, 2, 4 - d / 2), (2, 2, 4 + d / 2)], cell=[4, 4, 8], pbc=[True, True, False])
        for name, d in (("short", 0.72), ("long", 0.78))
    }
    job = SlabLabelJob(settings=Cp2kSettings(cutoff=200, forces=False, threads=1), fields=((0.0, 0.0, 0.5),),
                       keep_candidates=True, random_points=50, ts_points=50)
    names = {}
    for workers in (1, 2):
        names[workers] = sorted(label_slabs(molecules, job, tmp_path / f"{workers}.h5", workers=workers))
    assert names[1] == names[2] == ["long", "short"]
    with CandidateStore(tmp_path / "1.h5") as serial, CandidateStore(tmp_path / "2.h5") as parallel:
        assert parallel.names() == serial.names() == ["long_E0", "long_Ez+0.50", "short_E0", "short_Ez+0.50"]
        for name in serial.names():
            assert parallel[name].random_values == pytest.approx(serial[name].random_values, abs=1e-6)
