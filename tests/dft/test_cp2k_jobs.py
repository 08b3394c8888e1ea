"""The CP2K job runs CP2K with its own thread count and leaves this process's environment alone (needs cp2k.psmp)."""

from __future__ import annotations

import os
import shutil

import pytest

from echemml.dft.cp2k import Cp2kError, Cp2kSettings, read_output, run_cp2k

pytest.importorskip("custodian")
from echemml.dft.cp2k.jobs import Cp2kDensityJob  # noqa: E402
from tests.dft.conftest import H2

pytestmark = [
    pytest.mark.dft,
    pytest.mark.skipif(shutil.which("cp2k.psmp") is None, reason="CP2K not installed (apt-get install cp2k)"),
]

FAST = Cp2kSettings(cutoff=200, smearing_K=0, forces=False, threads=1)


def test_job_gives_cp2k_its_threads_without_touching_os_environ(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    before = dict(os.environ)
    with pytest.warns(UserWarning, match="MT Poisson"):
        run_cp2k(H2, settings=FAST, keep=tmp_path)
    assert dict(os.environ) == before
    assert read_output(tmp_path / "cp2k.out").threads == 1


def test_job_environment_is_this_process_with_the_settings_threads(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    environment = Cp2kDensityJob(H2, settings=FAST).environment()
    assert environment["OMP_NUM_THREADS"] == "1" and environment["PATH"] == os.environ["PATH"]
    assert os.environ["OMP_NUM_THREADS"] == "7"


def test_short_mt_cell_fails_the_run_when_required():
    with pytest.raises(Cp2kError, match=r"along z is 1\.\d+× the extent"):
        run_cp2k(H2, settings=FAST, require_mt_cell=True)
