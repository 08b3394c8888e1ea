"""`echemml dft pyscf`: writes cube + JSON per molecule, resumes, refuses reserved QM9 indices."""

from __future__ import annotations

import json

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


def test_reserved_qm9_index_exits_with_code_2(tmp_path, capsys):
    assert main(["dft", "pyscf", "--qm9", "120001", "--out", str(tmp_path)]) == 2
    assert "reserved for evaluation" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_unreadable_structure_file_exits_with_code_2(tmp_path, capsys):
    bad = tmp_path / "broken.xyz"
    bad.write_text("3\nwater\nO 0 0\n")
    assert main(["dft", "pyscf", str(bad), "--out", str(tmp_path / "out")]) == 2
    assert str(bad) in capsys.readouterr().err
