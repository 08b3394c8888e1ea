"""CP2K backend: slabs and molecules, optionally in a uniform field, labelled with GPW densities.

In custodian's shape, one module per part:

- :mod:`.inputs`: :class:`Cp2kSettings` (the recipe) and :func:`write_input` (Å, V/Å);
- :mod:`.jobs`: :class:`~.jobs.Cp2kDensityJob`, the custodian Job that writes the
  input, runs cp2k.psmp with its own OMP_NUM_THREADS and reads the results back;
- :mod:`.validators`: the custodian Validators ``ScfConvergedValidator`` and
  ``MtCellValidator`` (a cell at least twice the density along the MT solver's axes);
- :mod:`.parser`: the output file through pymatgen's ``Cp2kOutput`` (energy in eV,
  forces in eV/Å, convergence, each kind's valence charge in e);
- :mod:`.mt_cell`: the MT Poisson solver's cell condition on a DensityGrid;
- :mod:`.run`: :func:`run_cp2k`, one calculation under custodian in a scratch folder.

Writing inputs needs neither custodian nor pymatgen; running and reading need
both (``pip install 'echemml[cp2k]'``), so :mod:`.jobs` and :mod:`.validators`
are imported from their modules, not from here.
"""

from .inputs import Cp2kSettings, field_axis, write_input
from .mt_cell import MT_VACUUM_LINE_DENSITY, mt_cell_ratio, warn_if_mt_cell_is_short
from .parser import Cp2kError, Cp2kOutputSummary, read_output
from .run import run_cp2k

__all__ = [
    "MT_VACUUM_LINE_DENSITY",
    "Cp2kError",
    "Cp2kOutputSummary",
    "Cp2kSettings",
    "field_axis",
    "mt_cell_ratio",
    "read_output",
    "run_cp2k",
    "warn_if_mt_cell_is_short",
    "write_input",
]
