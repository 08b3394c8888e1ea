"""`echemml info`: human summary, JSON keys, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from echemml.cli import main
from tests.conftest import CP2K_WATER_CUBE
from tests.io.test_vasp_non_densities import write_elfcar, write_locpot

AU100_LABELS = Path(__file__).parents[2] / "data" / "au100_response_mt.h5"  # committed CP2K labels


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


@pytest.mark.parametrize(
    "name, write, holds",
    [("LOCPOT", write_locpot, "the local potential (eV)"),
     ("ELFCAR", write_elfcar, "the electron localisation function (dimensionless)")],
)
def test_vasp_file_without_a_density_gives_one_line_error_and_exit_code_2(tmp_path, cp2k_water, name, write, holds):
    path = tmp_path / name
    write(cp2k_water.atoms, path)
    completed = subprocess.run(
        [sys.executable, "-m", "echemml", "info", str(path)], capture_output=True, text=True
    )
    assert completed.returncode == 2 and completed.stdout == ""
    assert completed.stderr.startswith(f"echemml: error: {path}: a VASP {name} holds {holds}, not an electron density")
    assert len(completed.stderr.strip().splitlines()) == 1 and "Traceback" not in completed.stderr


def test_info_describes_a_candidate_store(capsys):
    """data/au100_response_mt.h5: the training slabs labelled so far (CP2K; 39 at least), each
    once in 0 V/Å (a density target) and in −0.5 and −1 V/Å (two response targets)."""
    assert main(["info", str(AU100_LABELS), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)[0]
    assert summary["format"] == "echemml-candidates" and summary["elements"] == ["Au"]
    slabs = summary["targets"]["density"]
    assert slabs >= 39
    assert summary["configurations"] == 3 * slabs and summary["targets"] == {"density": slabs, "response": 2 * slabs}
    assert summary["fields_V_per_A"] == [[0.0, 0.0, -1.0], [0.0, 0.0, -0.5], [0.0, 0.0, 0.0]]
    assert summary["codes"] == {"cp2k": 3 * slabs} and summary["random_candidates"] == [1000]


def test_info_describes_a_sample_set(tmp_path, capsys):
    samples = tmp_path / "samples.h5"
    assert main(["sample", "--candidates", str(AU100_LABELS), "--names", "train_L3_0_E0",
                 "train_L4_0_E0", "--method", "random", "--n-points", "40", "--workers", "1", "-o", str(samples),
                 "--quiet"]) == 0
    capsys.readouterr()
    assert main(["info", str(samples)]) == 0
    out = capsys.readouterr().out
    assert "[echemml-samples]" in out and "configurations 2 (Au; 12–16 atoms each)" in out
    assert "points         80 (40–40 per configuration, mean 40.0)" in out
