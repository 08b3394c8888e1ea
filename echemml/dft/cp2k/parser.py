"""Reading a CP2K output file: energy (eV), forces (eV/Å), SCF convergence, electron and thread counts, valences.

pymatgen's ``Cp2kOutput`` reads whether the run ended, whether each SCF converged,
the convergence of every SCF step, the energy, the forces, the header (OpenMP
threads) and each atomic kind's valence charge. The valences come from the
atomic guess's "Total number of valence electrons" line of each kind, which CP2K
prints (with the kind's potential and its "Electronic configuration") only when
the input asks for ``&SUBSYS / &PRINT / &KINDS``, as echemml's inputs do; at
PRINT_LEVEL LOW without it (older outputs) no kind is listed. Own parsing: only
the electron count ("Number of electrons:"), printed at any print level.
``Cp2kOutput(auto_load=True)`` is not used: its structure parser does not finish
on a slab output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase.units import Bohr, Hartree

from ...errors import EchemmlError

_ELECTRONS = re.compile(r"Number of electrons:\s+(\d+)")


class Cp2kError(EchemmlError):
    """CP2K failed or did not converge; the message ends with the log's last lines."""


@dataclass(frozen=True)
class Cp2kOutputSummary:
    """What a CP2K output file says about its run.

    Attributes:
        completed: CP2K reached "PROGRAM ENDED".
        scf_converged: every SCF printed converged (False when none was printed).
        energy: the last total FORCE_EVAL energy, eV (None when none was printed).
        forces: the last ATOMIC FORCES block, (natoms, 3) in eV/Å, or None.
        n_valence: valence electrons, e (NaN when not printed).
        scf_convergence: the convergence of each step of the last SCF (CP2K's
            density-matrix change, dimensionless).
        threads: the OpenMP threads the process ran with (None when not printed).
        valence_charges: Z_val of each atomic kind CP2K used, e, by kind name
            (empty when the output lists no kinds, see the module docstring).
    """

    completed: bool
    scf_converged: bool
    energy: float | None
    forces: np.ndarray | None
    n_valence: float
    scf_convergence: tuple[float, ...]
    threads: int | None
    valence_charges: dict[str, float]


def read_output(path: str | Path) -> Cp2kOutputSummary:
    """Read a CP2K output file (energies from pymatgen's Cp2kOutput, which converts Hartree to eV)."""
    from pymatgen.io.cp2k.outputs import Cp2kOutput

    path = Path(path)
    if not path.is_file():
        raise Cp2kError(f"{path}: CP2K wrote no output")
    try:
        output = Cp2kOutput(str(path))
    except IndexError:  # pymatgen's kind parser on an output cut short inside its kind block
        return _cut_short_in_setup()
    try:
        output.ran_successfully()
    except ValueError:  # pymatgen's way of saying "PROGRAM ENDED" is missing
        pass
    output.convergence()
    output.parse_scf_opt()
    output.parse_forces()
    energies = _energies(output)
    scf = output.data.get("scf_converged", [])
    steps = output.data.get("convergence") or [[]]
    forces = output.data.get("forces") or []
    threads = output.data.get("global", {}).get("Number_of_threads_for_this_process")
    electrons = _ELECTRONS.findall(path.read_text(errors="replace"))
    return Cp2kOutputSummary(
        completed=bool(output.completed),
        scf_converged=bool(scf) and all(scf),
        energy=energies[-1] if energies else None,
        forces=np.asarray(forces[-1], dtype=float) * (Hartree / Bohr) if forces else None,
        n_valence=float(electrons[0]) if electrons else float("nan"),
        scf_convergence=tuple(steps[-1]),
        threads=int(threads) if threads is not None else None,
        valence_charges=_kind_valences(output.data.get("atomic_kind_info", {})),
    )


def _cut_short_in_setup() -> Cp2kOutputSummary:
    """The summary of an output that ends before its first SCF: unfinished, nothing computed."""
    return Cp2kOutputSummary(
        completed=False, scf_converged=False, energy=None, forces=None, n_valence=float("nan"),
        scf_convergence=(), threads=None, valence_charges={},
    )


def _kind_valences(kinds: dict) -> dict[str, float]:
    """Z_val (e) of each kind in pymatgen's "atomic_kind_info", by kind name; kinds without one are left out."""
    return {kind: float(info["valence_electrons"]) for kind, info in kinds.items()
            if info.get("valence_electrons") is not None}


def _energies(output) -> list[float]:
    """Every total energy the output printed, eV (pymatgen raises when there is none)."""
    try:
        output.parse_energies()
    except IndexError:
        return []
    return list(output.data["total_energy"])


def scf_summary(summary: Cp2kOutputSummary) -> str:
    """Where the last SCF stood: its step count and the convergence of its last steps."""
    if not summary.scf_convergence:
        return "no SCF step was printed"
    last = ", ".join(f"{value:.2e}" for value in summary.scf_convergence[-5:])
    return f"{len(summary.scf_convergence)} SCF steps, convergence of the last ones {last}"


def log_tail(path: str | Path, lines: int = 15) -> str:
    """The last non-empty lines of a log file, joined with " | " for an error message."""
    path = Path(path)
    if not path.exists():
        return "(no output written)"
    text = path.read_text(errors="replace").splitlines()
    return " | ".join(line.strip() for line in text[-lines:] if line.strip())
