"""`echemml sample`: a sample set with a summary, resumable."""

from __future__ import annotations

from pathlib import Path

from echemml.cli import main
from echemml.io.candidates import CandidateStore
from echemml.io.samples import SampleSet
from tests.conftest import CP2K_WATER_CUBE

QM9_LABELS = Path(__file__).parents[2] / "data" / "qm9_train_candidates.h5"  # committed PySCF labels


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


def test_sample_draws_from_several_candidate_stores(tmp_path):
    """Configurations of every store given to --candidates are sampled (two committed QM9 labels here)."""
    stores = [tmp_path / "a.h5", tmp_path / "b.h5"]
    with CandidateStore(QM9_LABELS) as source:
        names = source.names()[:2]
        for name, path in zip(names, stores):
            with CandidateStore(path, "a") as target:
                target.add(source[name])
    out = tmp_path / "samples.h5"
    assert main(["sample", "--candidates", *map(str, stores), "--method", "ts", "--n-points", "20",
                 "-o", str(out), "--workers", "1", "--quiet"]) == 0
    with SampleSet(out) as samples:
        assert len(samples) == 2 and samples.n_points() == 40


def test_unknown_candidate_name_exits_with_code_2(tmp_path, capsys):
    assert main(["sample", "--candidates", str(QM9_LABELS), "--names", "qm9_999999", "--method", "ts",
                 "-o", str(tmp_path / "s.h5"), "--workers", "1"]) == 2
    assert "no configurations match qm9_999999" in capsys.readouterr().err


def test_names_take_shell_patterns_across_stores(tmp_path):
    """--names matches like fit.names: a pattern picks every configuration it fits, in every store."""
    with CandidateStore(QM9_LABELS) as source:
        names = source.names()[:3]
        with CandidateStore(tmp_path / "a.h5", "a") as target:
            for name in names:
                target.add(source[name])
    out = tmp_path / "samples.h5"
    assert main(["sample", "--candidates", str(tmp_path / "a.h5"), "--names", names[0], f"{names[1][:-1]}?",
                 "--method", "ts", "--n-points", "10", "-o", str(out), "--workers", "1", "--quiet"]) == 0
    with SampleSet(out) as samples:
        assert sorted(c.provenance["source"] for c in samples) == sorted(names[:2])


def test_a_ts_sigma_other_than_the_stores_exits_with_code_2(tmp_path, capsys):
    """The stored TS order belongs to one σ (30 Å³/e for the QM9 labels): another is refused in one line."""
    assert main(["sample", "--candidates", str(QM9_LABELS), "--names", "qm9_000051", "--method", "ts",
                 "--ts-sigma", "300", "-o", str(tmp_path / "s.h5"), "--workers", "1", "--quiet"]) == 2
    error = capsys.readouterr().err
    assert "qm9_000051" in error and "--ts-sigma 30.0" in error and "Traceback" not in error
