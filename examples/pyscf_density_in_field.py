"""Example: the valence density of water and its response to a 0.1 V/Å field, with PySCF.

Writes water.cube and water_response.cube and prints electron counts, the induced
dipole and the planar-averaged response along the field.

    python examples/pyscf_density_in_field.py
"""

import numpy as np
from ase.build import molecule

import echemml
from echemml.dft.pyscf import PySCFSettings, run_pyscf

settings = PySCFSettings(spacing=0.1, margin=4.0)
water = molecule("H2O")
zero = run_pyscf(water, settings=settings)
field = run_pyscf(water, field=[0.0, 0.0, 0.1], settings=settings)  # V/Å

response = field.grid.difference(zero.grid)  # Δn = n_ε − n_0, e/Å³
points = np.concatenate([p for _, p in response.iter_points()])
dipole = -(response.values.reshape(-1)[:, None] * points).sum(axis=0) * response.voxel_volume

print(f"electrons: {zero.grid.integral():.5f} (valence {zero.n_valence:.0f})")
print(f"∫Δn = {response.integral():.2e} e, induced dipole = {np.round(dipole, 5)} e·Å")
z, lam = response.planar_average(axis=2)
print(f"largest |λ(z)| of the response: {np.abs(lam).max():.4f} e/Å at z = {z[np.argmax(np.abs(lam))]:.2f} Å")

echemml.write_density(zero.grid, "water.cube")
echemml.write_density(response, "water_response.cube")
