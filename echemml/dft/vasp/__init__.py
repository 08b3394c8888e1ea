"""VASP backend: inputs from pymatgen, runs through custodian, CHGCAR read back (VASP is licensed: not run here).

In custodian's shape, one module per part:

- :mod:`.inputs`: :func:`vasp_input_set` and :func:`write_vasp_inputs` (static
  run with CHGCAR, field in V/Å as VASP's dipole layer);
- :mod:`.jobs`: :class:`~.jobs.VaspDensityJob`, the custodian Job that runs VASP
  with its own OMP_NUM_THREADS and reads the CHGCAR back;
- :mod:`.validators`: ``DipoleFieldValidator`` (EFIELD with LDIPOL and IDIPOL)
  and ``ChgcarValidator`` (a CHGCAR was written);
- :mod:`.parser`: vasprun.xml through pymatgen's ``Vasprun`` (eV, eV/Å), the
  CHGCAR through echemml's reader (e/Å³);
- :mod:`.run`: :func:`run_vasp`, one calculation under custodian.

:mod:`.jobs` and :mod:`.validators` need custodian and are imported from their modules.
"""

from .inputs import vasp_input_set, write_vasp_inputs
from .parser import VaspOutputSummary, read_vasp_density, read_vasprun
from .run import run_vasp

__all__ = ["VaspOutputSummary", "read_vasp_density", "read_vasprun", "run_vasp", "vasp_input_set", "write_vasp_inputs"]
