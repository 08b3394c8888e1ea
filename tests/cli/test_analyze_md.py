"""`echemml analyze md RUN`: an MD run's series statistics, atom profile and mean induced charge."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from echemml.calculators.recorder import read_record
from echemml.cli import main

SLAB = Path(__file__).resolve().parents[2] / "data" / "au100" / "structures_mt" / "test_L4_0.xyz"  # 16-atom Au(100)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """Four EMT steps of the slab in −1 V/Å along z, recorded every two steps (three frames)."""
    folder = tmp_path_factory.mktemp("analyze_md") / "run"
    assert main(["md", str(SLAB), "--potential", "emt", "--response-model", "au100-response",
                 "--field", "0", "0", "-1", "--steps", "4", "--every", "2", "--timestep", "2", "--temperature", "300",
                 "--spacing", "0.3", "--record", "energy,charge_transfer,face_charges,esp_drop,field",
                 "--threads", "1", "--quiet", "-o", str(folder)]) == 0
    return folder


def analyze(*argv: str) -> dict:
    """`echemml analyze md ... --json`, its JSON."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["analyze", "md", *argv, "--json", "--threads", "1"]) == 0
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def summary(run) -> dict:
    return analyze(str(run))


def test_series_statistics_are_those_of_the_record(run, summary):
    record = read_record(run / "record.h5")
    assert summary["frames"] == 3
    assert summary["series"]["charge_transfer"]["mean"] == pytest.approx(float(np.mean(record["charge_transfer"])))
    assert summary["series"]["face_charges"]["components"] == ["lower", "upper"]
    assert summary["series"]["field"]["max"] == pytest.approx([0.0, 0.0, -1.0])


def test_the_atom_profile_integrates_to_the_atom_count(summary):
    profile = summary["atom_profile"]
    assert np.sum(profile["atoms_per_A"]) * profile["bin_width_A"] == pytest.approx(16.0, abs=1e-6)
    assert profile["bin_width_A"] == pytest.approx(0.1, abs=0.001)


def test_the_mean_induced_charge_is_neutral_and_its_lower_half_is_the_recorded_lower_face(run):
    """Frames 0 and 2 (--every 2): ∫λ = 0, ∫ below the middle = their mean lower-face charge (−, field −z)."""
    induced = analyze(str(run), "--response-model", "au100-response", "--spacing", "0.3", "--every", "2")[
        "induced_profile"]
    record = read_record(run / "record.h5")
    z, line_density = np.array(induced["z_A"]), np.array(induced["line_density_e_per_A"])
    assert induced["frames"] == 2
    assert abs(np.sum(line_density) * (z[1] - z[0])) < 0.01
    assert induced["lower_e"] == pytest.approx(float(np.mean(record["face_charges"][::2, 0])), rel=0.02)
    assert abs(induced["lower_e"]) == pytest.approx(float(np.mean(record["charge_transfer"][::2])), rel=0.02)


def test_the_plot_is_written(run, tmp_path):
    png = tmp_path / "md.png"
    assert main(["analyze", "md", str(run), "--plot", str(png)]) == 0
    assert png.stat().st_size > 10_000


def test_a_folder_that_is_not_a_run_exits_with_code_2(tmp_path, capsys):
    assert main(["analyze", "md", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(tmp_path) in err and "not an echemml md run" in err


def test_an_unknown_response_model_exits_with_code_2(run, capsys):
    assert main(["analyze", "md", str(run), "--response-model", "no-such-model"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no-such-model" in err
