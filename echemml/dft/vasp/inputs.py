"""VASP inputs from pymatgen: a static run that writes the CHGCAR, with VASP's dipole-layer field.

:func:`write_vasp_inputs` writes a static calculation with pymatgen's
``MPStaticSet`` (LCHARG on, so the CHGCAR is written) and, for a field, VASP's
dipole-layer settings: EFIELD (eV/Å, i.e. V/Å for a unit charge) along IDIPOL's
axis with LDIPOL and DIPOL at the cell's centre. Where POTCARs are not installed
it can write ``POTCAR.spec`` instead (``potcar_spec=True``). VASP's EFIELD is a
"force field" whose sign has differed between releases: check the sign of the
induced dipole on a first run.
"""

from __future__ import annotations

import os
from pathlib import Path

import ase
import numpy as np

from ...errors import EchemmlError
from ..cp2k.inputs import field_axis


def vasp_input_set(atoms: ase.Atoms, field: np.ndarray | None = None, incar: dict | None = None):
    """pymatgen's MPStaticSet for ``atoms`` with CHGCAR output and, optionally, a field (V/Å)."""
    from pymatgen.io.ase import AseAtomsAdaptor
    from pymatgen.io.vasp.sets import MPStaticSet

    settings = {"LCHARG": True, "LAECHG": True}
    axis = field_axis(field)
    if axis is not None:
        settings.update(
            {"EFIELD": float(np.asarray(field)[axis]), "IDIPOL": axis + 1, "LDIPOL": True,
             "DIPOL": [0.5, 0.5, 0.5]}
        )
    settings.update(incar or {})
    structure = AseAtomsAdaptor.get_structure(atoms)
    return MPStaticSet(structure, user_incar_settings=settings, sort_structure=False)


def write_vasp_inputs(
    atoms: ase.Atoms, folder: str | os.PathLike, field: np.ndarray | None = None,
    incar: dict | None = None, potcar_spec: bool = False,
) -> Path:
    """Write INCAR, POSCAR, KPOINTS and POTCAR (or POTCAR.spec) for a static run; returns the folder."""
    folder = Path(folder)
    try:
        vasp_input_set(atoms, field, incar).write_input(str(folder), potcar_spec=potcar_spec)
    except (OSError, ValueError, RuntimeError) as exc:  # missing POTCAR library, mostly
        raise EchemmlError(
            f"cannot write VASP inputs in {folder}: {exc} (set PMG_VASP_PSP_DIR, or use potcar_spec=True)"
        ) from None
    return folder
