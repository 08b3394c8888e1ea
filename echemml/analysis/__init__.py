"""What users compute from a density (DFT or predicted): profiles, electrostatics,
charge balance and, with an optional backend, Bader charges.

Units: Å, e/Å³ (densities), e/Å (line densities), e, V, V/Å.
"""
