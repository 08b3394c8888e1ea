"""`echemml info`: human summary, JSON keys, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from echemml.cli import main
from tests.conftest import CP2K_WATER_CUBE


def test_info_json_lists_one_object_per_file(capsys):
    assert main(["info", str(CP2K_WATER_CUBE), "--json"]) == 0
    summaries = json.loads(capsys.readouterr().out)
    assert len(summaries) == 1
    summary = summaries[0]
    assert {"file", "format", "natoms", "shape", "electrons", "min", "max"} <= set(summary)
    assert summary["format"] == "cube" and summary["natoms"] == 3 and summary["shape"] == [54, 54, 54]
    assert summary["electrons"] == pytest.approx(8.0, abs=1e-3)


def test_info_prints_electrons_and_units(capsys):
    assert main(["info", str(CP2K_WATER_CUBE)]) == 0
    out = capsys.readouterr().out
    assert "7.9999" in out and "e/Å³" in out and "54×54×54" in out


@pytest.mark.parametrize(
    "content, problem",
    [(None, "no such file"), ("", "empty"), ("hello world\nnot a grid\nat all\n", "unknown format")],
)
def test_bad_file_gives_one_line_error_and_exit_code_2(tmp_path, content, problem):
    path = tmp_path / "input.dat"
    if content is not None:
        path.write_text(content)
    completed = subprocess.run(
        [sys.executable, "-m", "echemml", "info", str(path)], capture_output=True, text=True
    )
    assert completed.returncode == 2
    assert completed.stderr.startswith(f"echemml: error: {path}: ")
    assert problem in completed.stderr and "Traceback" not in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1
