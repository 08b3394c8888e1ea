"""Files appear whole or not at all, with the permissions an ordinary open() would give."""

from __future__ import annotations

import os
import stat

import pytest

from echemml.io.files import atomic_open


def test_written_file_gets_the_umask_permissions(tmp_path):
    previous = os.umask(0o022)
    try:
        with atomic_open(tmp_path / "out.json") as handle:
            handle.write("{}")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "out.json").stat().st_mode) == 0o644


def test_an_error_while_writing_leaves_the_old_file_untouched(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_open(path) as handle:
        handle.write("new, half written")
        raise RuntimeError("disk full")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
