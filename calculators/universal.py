"""Universal interatomic potentials for the atoms of an electrode, as ASE calculators.

echemml learns densities and their field response; the forces that move a metal
electrode's atoms in MD can come from any ASE calculator. A universal potential
needs no training: CHGNet (Deng et al., Nat. Mach. Intell. 2023) ships its
pretrained weights inside its wheel, so it works offline. It is an optional extra
(``pip install "echemml[chgnet]"``). Its energies are in eV, forces in eV/Å and
stresses in eV/Å³, as ASE's; it does not see the applied field.
"""

from __future__ import annotations

from ase.calculators.calculator import Calculator

from echemml.errors import EchemmlError

UNIVERSAL_POTENTIALS = ("chgnet", "emt")
"""Potentials named instead of an echemml energy model: CHGNet (metal electrodes) and ASE's EMT (metals
such as Au, for tests)."""


def universal_potential(name: str) -> Calculator | None:
    """The ASE calculator of a :data:`UNIVERSAL_POTENTIALS` name (any case); None for any other name."""
    if name.lower() == "chgnet":
        return chgnet_calculator()
    if name.lower() == "emt":
        from ase.calculators.emt import EMT

        return EMT()
    return None


def chgnet_calculator(device: str = "cpu") -> Calculator:
    """CHGNet's pretrained universal potential (the weights in its wheel) as an ASE calculator on ``device``."""
    try:
        from chgnet.model.dynamics import CHGNetCalculator
    except ImportError:
        raise EchemmlError('CHGNet is not installed: pip install "echemml[chgnet]"') from None
    return CHGNetCalculator(use_device=device)
