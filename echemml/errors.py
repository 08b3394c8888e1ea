"""Exceptions that echemml raises for bad input, each carrying a one-line message.

The command line turns every :class:`EchemmlError` into ``echemml: error: <message>``
on standard error and exit code 2, without a traceback.
"""

from __future__ import annotations

import os


class EchemmlError(Exception):
    """Base class of the errors a user can fix by changing their input."""


class InputFileError(EchemmlError, ValueError):
    """A file is missing, truncated, garbled or holds values that make no sense.

    The message always starts with the file's path, so that one line says which
    file is wrong and why.
    """

    def __init__(self, path: str | os.PathLike | None, problem: str):
        self.path = None if path is None else os.fspath(path)
        self.problem = problem
        super().__init__(problem if self.path is None else f"{self.path}: {problem}")


class GridMismatchError(EchemmlError, ValueError):
    """Two density grids that should match (shape, voxels, origin, atoms) do not."""


class ReservedIndexError(EchemmlError, ValueError):
    """A QM9 index reserved for evaluation was asked for as training data."""
