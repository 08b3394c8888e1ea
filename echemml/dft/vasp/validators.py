"""custodian Validators of a finished VASP run: the dipole-layer field settings hold together, a CHGCAR was written.

custodian calls ``check(directory)`` after the run; True means the run failed
validation (its error handlers may have rewritten the INCAR on the way).
"""

from __future__ import annotations

from pathlib import Path

from custodian.custodian import Validator


class DipoleFieldValidator(Validator):
    """Fails a run whose INCAR sets a field (EFIELD ≠ 0, eV/Å) without a dipole layer along one axis.

    VASP applies EFIELD only with LDIPOL = .TRUE. and IDIPOL 1, 2 or 3 (the field's axis).
    """

    def __init__(self, incar_file: str = "INCAR") -> None:
        self.incar_file = incar_file

    def check(self, directory: str = "./") -> bool:
        """True when EFIELD is set but LDIPOL is off or IDIPOL is not one axis."""
        from pymatgen.io.vasp import Incar

        incar = Incar.from_file(Path(directory) / self.incar_file)
        if not incar.get("EFIELD", 0.0):
            return False
        return not (incar.get("LDIPOL", False) is True and incar.get("IDIPOL") in (1, 2, 3))


class ChgcarValidator(Validator):
    """Fails a run that left no CHGCAR, or an empty one (LCHARG off, or VASP stopped early)."""

    def __init__(self, chgcar_file: str = "CHGCAR") -> None:
        self.chgcar_file = chgcar_file

    def check(self, directory: str = "./") -> bool:
        """True when the CHGCAR is missing or empty."""
        path = Path(directory) / self.chgcar_file
        return not path.is_file() or path.stat().st_size == 0
