"""`echemml analyze`: JSON numbers, plots and one-line errors."""

from __future__ import annotations

import json

import pytest

from echemml.cli import main
from tests.conftest import CP2K_WATER_CUBE, DATA


def test_transfer_json_has_the_slab_numbers(tmp_path, capsys):
    folder = DATA / "cp2k_au100"
    png = tmp_path / "fig6.png"
    assert main(["analyze", "transfer", str(folder / "au100_fieldm1.cube.gz"),
                 "--reference", str(folder / "au100_field0.cube.gz"), "--json", "--plot", str(png)]) == 0
    result = json.loads(capsys.readouterr().out.split("plot written")[0])
    assert {"transfer_e", "left_e", "right_e", "net_e", "esp_drop_V", "esp_slope_inside_V_per_A"} <= set(result)
    assert result["transfer_e"] == pytest.approx(0.19, abs=0.02)
    assert png.stat().st_size > 10_000


def test_profile_integrates_to_the_electron_count(capsys):
    assert main(["analyze", "profile", str(CP2K_WATER_CUBE), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["electrons"] == pytest.approx(8.0, abs=1e-3)


def test_linescan_between_atoms(capsys):
    assert main(["analyze", "linescan", str(CP2K_WATER_CUBE), "--start", "1", "--end", "0", "--points", "11",
                 "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["density"]) == 11


def test_mismatched_reference_exits_with_code_2(capsys):
    assert main(["analyze", "transfer", str(CP2K_WATER_CUBE), "--reference",
                 str(DATA / "cp2k_au100" / "au100_field0.cube.gz")]) == 2
    assert "differ" in capsys.readouterr().err


def test_bad_point_exits_with_code_2(capsys):
    assert main(["analyze", "linescan", str(CP2K_WATER_CUBE), "--start", "1,2", "--end", "0"]) == 2
    assert "not an atom index" in capsys.readouterr().err
