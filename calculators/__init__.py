"""ASE calculators backed by echemml models (installed as ``echemml.calculators``).

Filled by later work: a calculator that routes energy/forces and densities to
the models that own them.
"""
