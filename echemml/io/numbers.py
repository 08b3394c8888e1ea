"""Fast parsing of whitespace-separated number blocks, with errors that name the file.

Grid files hold millions of numbers: they are parsed by numpy in C, never by a
Python loop over tokens. The slow path runs only after a failure, to say where.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import InputFileError


def _first_bad_token(text: str) -> str:
    for token in text.split():
        try:
            float(token)
        except ValueError:
            return token
    return ""


def parse_floats(
    text: str, path: str | os.PathLike, what: str, expected: int | None = None
) -> np.ndarray:
    """Parse ``text`` as whitespace-separated floats (float64).

    ``what`` names the block in error messages ("grid values"). With
    ``expected``, exactly that many numbers must be present (fewer means the file
    is truncated). NaN and infinite values are refused.
    """
    try:
        values = np.fromstring(text, dtype=np.float64, sep=" ")
    except ValueError:
        bad = _first_bad_token(text)
        raise InputFileError(path, f"garbled {what}: cannot read {bad[:40]!r} as a number") from None
    if expected is not None and values.size != expected:
        if values.size < expected:
            raise InputFileError(
                path, f"truncated {what}: expected {expected} numbers, found {values.size}"
            )
        raise InputFileError(path, f"{what}: expected {expected} numbers, found {values.size}")
    if not np.all(np.isfinite(values)):
        bad_count = int(np.count_nonzero(~np.isfinite(values)))
        raise InputFileError(path, f"{what} contain {bad_count} NaN or infinite values")
    return values


def parse_ints(line: str, path: str | os.PathLike, what: str, count: int) -> list[int]:
    """Parse the first ``count`` whitespace-separated integers of one header line."""
    tokens = line.split()
    try:
        numbers = [int(token) for token in tokens[:count]]
    except ValueError:
        raise InputFileError(path, f"garbled {what}: {line.strip()[:60]!r}") from None
    if len(numbers) != count:
        raise InputFileError(path, f"garbled {what}: expected {count} integers in {line.strip()[:60]!r}")
    return numbers


def parse_header_floats(line: str, path: str | os.PathLike, what: str, count: int) -> list[float]:
    """Parse the first ``count`` floats of one header line."""
    tokens = line.split()
    try:
        numbers = [float(token) for token in tokens[:count]]
    except ValueError:
        raise InputFileError(path, f"garbled {what}: {line.strip()[:60]!r}") from None
    if len(numbers) != count or not np.all(np.isfinite(numbers)):
        raise InputFileError(path, f"garbled {what}: {line.strip()[:60]!r}")
    return numbers


def format_block(values: np.ndarray, per_line: int, fmt: str) -> str:
    """Format a flat array as text lines of ``per_line`` numbers each (last one shorter)."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    full = (values.size // per_line) * per_line
    line_fmt = " ".join([fmt] * per_line)
    body = "\n".join(line_fmt % tuple(row) for row in values[:full].reshape(-1, per_line))
    rest = values[full:]
    if rest.size:
        tail = " ".join([fmt] * rest.size) % tuple(rest)
        body = f"{body}\n{tail}" if body else tail
    return body + "\n"
