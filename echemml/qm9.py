"""QM9 molecules (geometries in Å) from the qm9pack package, with the evaluation reservation.

QM9 indices above :data:`RESERVED_ABOVE` are kept for evaluation: asking for
them as training data raises :class:`ReservedIndexError` unless the caller says
``allow_reserved=True`` (evaluation scripts do). qm9pack ships the molecules as
CSV files; they are read directly, because importing qm9pack itself needs the
retired ``pkg_resources``.
"""

from __future__ import annotations

import ast
import csv
import functools
import importlib.util
import re
import sys
from collections.abc import Iterable
from pathlib import Path

import ase
import numpy as np

from .errors import EchemmlError, ReservedIndexError

RESERVED_ABOVE = 120_000  # indices > this are for evaluation only
TRAIN_MAX = 100_000  # training/validation molecules come from indices ≤ this
QM9_SIZE = 133_885
# qm9pack's three CSV parts and the largest index in each
_PARTS = ((1, 44_746), (2, 89_008), (3, QM9_SIZE))


def _data_folder() -> Path:
    spec = importlib.util.find_spec("qm9pack")
    if spec is None or not spec.submodule_search_locations:
        raise EchemmlError("QM9 geometries need the qm9pack package: pip install 'echemml[pyscf]'")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def parse_index_ranges(text: str) -> list[int]:
    """'1-5,9,20-22' → [1, 2, 3, 4, 5, 9, 20, 21, 22] (sorted, unique)."""
    indices: set[int] = set()
    for part in text.replace(" ", "").split(","):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise EchemmlError(f"bad QM9 index range {part!r} (expected e.g. 1-20,25)")
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if last < first:
            raise EchemmlError(f"bad QM9 index range {part!r}: end before start")
        indices.update(range(first, last + 1))
    return sorted(indices)


@functools.lru_cache(maxsize=1)
def available_indices() -> np.ndarray:
    """Every QM9 index qm9pack holds (QM9 minus its ~3,000 uncharacterised molecules), sorted."""
    folder = _data_folder()
    indices = []
    for part, _ in _PARTS:
        with open(folder / f"qm9_part{part}.csv") as handle:
            next(handle)
            # the index is the second field; the first (the xyz file name) holds no comma
            indices.extend(int(line.split(",", 2)[1]) for line in handle)
    return np.array(sorted(indices), dtype=np.int64)


def check_indices(indices: Iterable[int], allow_reserved: bool = False) -> list[int]:
    """Validate QM9 indices; refuse evaluation-reserved ones unless allowed."""
    indices = sorted(set(int(i) for i in indices))
    out_of_range = [i for i in indices if not 1 <= i <= QM9_SIZE]
    if out_of_range:
        raise EchemmlError(f"QM9 indices run from 1 to {QM9_SIZE}; got {out_of_range[:5]}")
    reserved = [i for i in indices if i > RESERVED_ABOVE]
    if reserved and not allow_reserved:
        raise ReservedIndexError(
            f"QM9 indices above {RESERVED_ABOVE} are reserved for evaluation "
            f"(asked for {len(reserved)}, e.g. {reserved[0]}); pass allow_reserved=True "
            "(CLI: --allow-reserved) only for evaluation data"
        )
    return indices


def load_qm9(indices: Iterable[int], allow_reserved: bool = False) -> dict[int, ase.Atoms]:
    """QM9 molecules by index (1-based, as in the QM9 file names).

    Returns {index: ase.Atoms} with positions in Å and ``atoms.info['qm9_index']``
    and ``['smiles']`` set. Indices absent from qm9pack (QM9's ~3,000
    uncharacterised molecules) raise EchemmlError.
    """
    wanted = check_indices(indices, allow_reserved)
    folder = _data_folder()
    csv.field_size_limit(sys.maxsize)
    molecules: dict[int, ase.Atoms] = {}
    for part, last_index in _PARTS:
        first_index = 1 if part == 1 else _PARTS[part - 2][1] + 1
        todo = {i for i in wanted if first_index <= i <= last_index}
        if not todo:
            continue
        with open(folder / f"qm9_part{part}.csv", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            col = {name: header.index(name) for name in ("Index", "SMILES", "Elements", "XYZ_Ang")}
            for row in reader:
                index = int(row[col["Index"]])
                if index in todo:
                    symbols = ast.literal_eval(row[col["Elements"]])
                    positions = np.array(ast.literal_eval(row[col["XYZ_Ang"]]), dtype=float)
                    molecules[index] = ase.Atoms(
                        symbols=symbols,
                        positions=positions,
                        info={"qm9_index": index, "smiles": row[col["SMILES"]]},
                    )
                    todo.discard(index)
                    if not todo:
                        break
    missing = [i for i in wanted if i not in molecules]
    if missing:
        raise EchemmlError(f"QM9 indices not in qm9pack (uncharacterised molecules): {missing[:10]}")
    return {i: molecules[i] for i in wanted}
