"""Running VASP under custodian on inputs already written, with its error handlers and echemml's validators."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ...errors import EchemmlError
from ...grid import DensityGrid


def run_vasp(folder: str | os.PathLike, vasp_command: str = "vasp_std", threads: int = 1) -> DensityGrid:
    """Run VASP in ``folder`` (inputs already written) through custodian; return the CHGCAR density (Å, e/Å³).

    custodian's VaspErrorHandler and UnconvergedErrorHandler correct what they
    can; the run fails unless the field settings hold together and a CHGCAR was
    written (:mod:`.validators`).
    """
    folder = Path(folder)
    executable = vasp_command.split()[0]
    if shutil.which(executable) is None:
        raise EchemmlError(f"{executable} not found: VASP is not installed here")
    from custodian import Custodian
    from custodian.vasp.handlers import UnconvergedErrorHandler, VaspErrorHandler

    from .jobs import VaspDensityJob
    from .validators import ChgcarValidator, DipoleFieldValidator

    job = VaspDensityJob(vasp_command, threads)
    handlers = [VaspErrorHandler(), UnconvergedErrorHandler()]
    validators = [DipoleFieldValidator(), ChgcarValidator()]
    try:
        Custodian(handlers, [job], validators, max_errors=5, directory=str(folder)).run()
    except EchemmlError:
        raise
    except Exception as exc:  # custodian raises its own error types
        raise EchemmlError(f"VASP failed in {folder} ({type(exc).__name__}: {exc})") from None
    return job.density
