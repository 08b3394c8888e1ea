"""Opening files for echemml's readers and writers.

Reading: plain, gzip, bzip2 and xz files are opened transparently (chosen by the
file's magic bytes, not its name). Writing: compression follows the suffix, and
files appear atomically — they are written to a temporary file in the same
folder and renamed into place, so an interrupted write never leaves a partial
file that looks complete.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import lzma
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ..errors import InputFileError

_MAGIC = {
    b"\x1f\x8b": gzip.open,
    b"BZh": bz2.open,
    b"\xfd7zXZ\x00": lzma.open,
}
_SUFFIX_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
COMPRESSION_SUFFIXES = tuple(_SUFFIX_OPENERS)


def strip_compression_suffix(name: str) -> str:
    """The file name without a trailing .gz/.bz2/.xz."""
    for suffix in COMPRESSION_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def read_text(path: str | os.PathLike, limit: int | None = None) -> str:
    """The content of a text file, decompressed when needed: all of it, or its first ``limit`` bytes.

    Raises InputFileError naming the file when it is missing, unreadable, empty,
    a broken archive or not text.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "no such file")
    if path.is_dir():
        raise InputFileError(path, "is a directory, not a file")
    try:
        with open(path, "rb") as handle:
            head = handle.read(6)
        opener = next((op for magic, op in _MAGIC.items() if head.startswith(magic)), open)
        with opener(path, "rb") as handle:
            raw = handle.read() if limit is None else handle.read(limit)
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise InputFileError(path, f"cannot read file ({exc})") from None
    if not raw.strip():
        raise InputFileError(path, "file is empty")
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        try:
            return raw.decode("utf-8", errors="strict" if limit is None else "ignore")
        except UnicodeDecodeError:
            raise InputFileError(path, "not a text file") from None


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Open ``path`` for writing so that it appears only once fully written.

    Text ("w") or binary ("wb") mode; a .gz/.bz2/.xz suffix compresses. On an
    exception the temporary file is removed and ``path`` is left untouched.
    """
    if mode not in ("w", "wb"):
        raise ValueError("atomic_open writes only: mode must be 'w' or 'wb'")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    opener = _SUFFIX_OPENERS.get(path.suffix.lower())
    try:
        if opener is None:
            handle = open(tmp_name, mode)
        else:
            handle = opener(tmp_name, mode + ("t" if mode == "w" else ""))
        with handle:
            yield handle
        # mkstemp makes the file private (0600): give it the permissions open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_name, 0o666 & ~umask)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
