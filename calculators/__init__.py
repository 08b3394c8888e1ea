"""ASE calculators backed by echemml models (installed as ``echemml.calculators``).

:class:`EChemCalculator` routes each property to the model that owns it: energy,
forces and stress to a potential (an echemml energy model or any ASE calculator),
densities, electron counts, Bader charges and dipoles to a density model, the field
response to a response model. :class:`~echemml.calculators.recorder.PropertyRecorder`
attached to any ASE dynamics writes chosen properties per frame to an HDF5 time series.
:func:`~echemml.calculators.universal.chgnet_calculator` gives CHGNet's pretrained universal
potential (an optional extra) for the atoms of a metal electrode.
"""

from .echem import EChemCalculator
from .universal import UNIVERSAL_POTENTIALS, chgnet_calculator, universal_potential

__all__ = ["UNIVERSAL_POTENTIALS", "EChemCalculator", "chgnet_calculator", "universal_potential"]
