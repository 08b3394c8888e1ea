"""HDF5Store: the shared shell of echemml's HDF5 files (sample sets, candidate stores).

A store is one HDF5 file with a ``format``/``version``/``units`` header and one
group per configuration under ``/configs``. A group counts only once its
``complete`` attribute is set (written last), so a crash mid-append leaves a
group that readers skip and writers replace.

HDF5 locks a file while a process has it open for writing (readers too, while
one reads): ``wait`` seconds lets an open retry until the other process lets go,
which is how a long labelling job that opens its store only to add to it shares
the file with readers. Ctrl-C or SIGTERM arriving while a group is written takes
effect once it is written: an interrupt inside the HDF5 library's bookkeeping
could leave the file unreadable, not just the group incomplete.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import h5py

from ..errors import InputFileError


class HDF5Store:
    """Open, validate and close a format-tagged HDF5 file; subclasses set the tags."""

    format_name = ""
    format_version = 0
    units: dict = {}

    def __init__(self, path: str | os.PathLike, mode: str = "r", wait: float = 0.0):
        """Open ``path`` for reading ("r") or appending ("a"), retrying for ``wait`` s while it is locked."""
        if mode not in ("r", "a"):
            raise ValueError("mode must be 'r' or 'a'")
        self.path = Path(path)
        if mode == "r" and not self.path.exists():
            raise InputFileError(self.path, "no such file")
        self._file = _open_waiting(self.path, mode, wait)
        if mode == "a" and "format" not in self._file.attrs:
            self._file.attrs.update(
                {"format": self.format_name, "version": self.format_version, "units": json.dumps(self.units)}
            )
            self._file.require_group("configs")
        if self._file.attrs.get("format") != self.format_name or "configs" not in self._file:
            self._file.close()
            raise InputFileError(self.path, f"not an {self.format_name} file")
        version = int(self._file.attrs.get("version", -1))
        if version != self.format_version:
            self._file.close()
            raise InputFileError(
                self.path, f"{self.format_name} format version {version}; this echemml reads {self.format_version}"
            )
        self._configs = self._file["configs"]

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Flush and close the file."""
        if self._file.id.valid:
            self._file.close()

    @property
    def writable(self) -> bool:
        """Whether the store was opened for appending."""
        return self._file.mode != "r"

    def names(self) -> list[str]:
        """Names of the complete configurations, sorted (the order they were added)."""
        return sorted(name for name, group in self._configs.items() if group.attrs.get("complete", False))

    def __contains__(self, name: str) -> bool:
        return name in self._configs and bool(self._configs[name].attrs.get("complete", False))

    def __len__(self) -> int:
        return len(self.names())

    @contextlib.contextmanager
    def _new_group(self, name: str) -> Iterator[h5py.Group]:
        """A fresh group for ``name`` (replacing an incomplete one left by a crash), marked complete on exit.

        Ctrl-C and SIGTERM wait until the group is written and marked.
        """
        if not self.writable:
            raise ValueError(f"{self.path} is open read-only")
        with _interrupts_deferred():
            if name in self._configs:
                if name in self:
                    raise ValueError(f"{name} is already in {self.path}")
                del self._configs[name]
            group = self._configs.create_group(name)
            yield group
            self._file.flush()
            group.attrs["complete"] = True
            self._file.flush()


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back inside the block (main thread only): the first to
    arrive is raised again, to the handler it would have met, when the block ends.

    Python's handlers, not the thread's signal mask: a process-directed signal
    reaches whichever thread does not block it (OpenMP's, HDF5's), so masking
    the main thread alone does not hold it back.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: arrived.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if arrived:
            signal.raise_signal(arrived[0])


LOCK_RETRY_SECONDS = 0.5


def _open_waiting(path: Path, mode: str, wait: float) -> h5py.File:
    """h5py.File(path, mode), retried every 0.5 s for up to ``wait`` s while another process holds the lock."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return h5py.File(path, mode)
        except OSError as exc:
            locked = "unable to lock file" in str(exc)
            if locked and time.monotonic() < deadline:
                time.sleep(LOCK_RETRY_SECONDS)
                continue
            if locked:
                raise InputFileError(path, "in use by another process (HDF5 file lock)") from None
            raise InputFileError(path, f"not a readable HDF5 file ({exc})") from None


def store_format(path: str | os.PathLike, wait: float = 0.0) -> str | None:
    """The ``format`` tag of an HDF5 file (e.g. "echemml-candidates"), or None for other files."""
    if not h5py.is_hdf5(path):
        return None
    with _open_waiting(Path(path), "r", wait) as handle:
        format = handle.attrs.get("format")
    return format if isinstance(format, str) else None
