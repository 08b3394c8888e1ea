"""`echemml sample`: a sample set with a summary, resumable."""

from __future__ import annotations

from echemml.cli import main
from echemml.io.samples import SampleSet
from tests.conftest import CP2K_WATER_CUBE


def test_sample_writes_a_set_and_skips_known_configurations(tmp_path, capsys):
    out = tmp_path / "samples.h5"
    args = ["sample", str(CP2K_WATER_CUBE), "--species", "1", "8", "--ts-points", "300", "-o", str(out),
            "--workers", "1", "--quiet"]
    assert main(args) == 0
    summary = capsys.readouterr().out
    assert "points each" in summary and "% of the grid" in summary and "e/Å³" in summary
    assert main(args) == 0
    assert "already in" in capsys.readouterr().out
    with SampleSet(out) as samples:
        assert len(samples) == 1 and samples[0].provenance["sampler"]["method"] == "ts+lifs"


def test_missing_file_exits_with_code_2(tmp_path, capsys):
    assert main(["sample", str(tmp_path / "none.cube"), "--method", "ts", "-o", str(tmp_path / "s.h5"),
                 "--workers", "1"]) == 2
    assert "no such file" in capsys.readouterr().err
