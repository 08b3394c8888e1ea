"""Running one CP2K calculation under custodian in a scratch folder, with its handlers and validators."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import ase
import numpy as np

from ..result import DFTResult
from .inputs import Cp2kSettings
from .parser import Cp2kError, log_tail


def run_cp2k(
    atoms: ase.Atoms,
    field: np.ndarray | None = None,
    settings: Cp2kSettings | None = None,
    keep: str | os.PathLike | None = None,
    require_mt_cell: bool = False,
) -> DFTResult:
    """Run CP2K on ``atoms`` (Å) in ``field`` (V/Å) and return its density (e/Å³), energy (eV) and forces (eV/Å).

    custodian runs a :class:`~.jobs.Cp2kDensityJob` with CP2K's abort and stderr
    handlers and the :class:`~.validators.ScfConvergedValidator`: a run that
    fails or whose SCF does not converge raises :class:`Cp2kError` saying where
    it stood. A cell shorter than twice the density along a non-periodic axis
    is warned about, or, with ``require_mt_cell``, fails the run
    (:class:`~.validators.MtCellValidator`).

    ``keep``: a folder to copy the input, output and cube (as density.cube) into after success.
    """
    settings = settings or Cp2kSettings()
    if shutil.which(settings.command) is None:
        raise Cp2kError(f"{settings.command} not found: install CP2K (Debian: apt-get install cp2k)")
    try:
        from custodian import Custodian
        from custodian.cp2k.handlers import AbortHandler, StdErrHandler
        from custodian.custodian import ValidationError

        from .jobs import INPUT_FILE, OUTPUT_FILE, STDERR_FILE, Cp2kDensityJob
        from .validators import CUBE_PATTERN, MtCellValidator, ScfConvergedValidator
    except ImportError as exc:
        raise Cp2kError(f"running CP2K needs custodian and pymatgen ({exc}): pip install 'echemml[cp2k]'") from None
    job = Cp2kDensityJob(atoms, field, settings)
    validators = [ScfConvergedValidator(OUTPUT_FILE)] + ([MtCellValidator(INPUT_FILE)] if require_mt_cell else [])
    with tempfile.TemporaryDirectory(prefix="echemml-cp2k-") as scratch:
        folder = Path(scratch)
        # absolute paths: not every custodian CP2K handler honours ``directory``
        handlers = [
            AbortHandler(input_file=str(folder / INPUT_FILE), output_file=str(folder / OUTPUT_FILE)),
            StdErrHandler(std_err=str(folder / STDERR_FILE)),
        ]
        custodian = Custodian(handlers, [job], validators, max_errors=3, polling_time_step=2, directory=scratch)
        try:
            custodian.run()
        except ValidationError as exc:
            raise Cp2kError(exc.validator.explain(scratch)) from None
        except Cp2kError:
            raise
        except Exception as exc:  # custodian raises its own error types
            raise Cp2kError(
                f"CP2K failed in {folder} ({type(exc).__name__}: {exc}): {log_tail(folder / OUTPUT_FILE)}"
            ) from None
        if keep is not None:
            keep = Path(keep)
            keep.mkdir(parents=True, exist_ok=True)
            for name in (INPUT_FILE, OUTPUT_FILE):
                shutil.copy(folder / name, keep / name)
            shutil.copy(sorted(folder.glob(CUBE_PATTERN))[-1], keep / "density.cube")
    return job.result
