"""Poisson solvers against analytic cases; slab response numbers on a model charge layer."""

from __future__ import annotations

import ase
import numpy as np
import pytest
from scipy.special import erf

from echemml import DensityGrid
from echemml.analysis.electrostatics import esp_periodic, esp_planar, slab_response
from echemml.units import EPSILON_0


def periodic_grid(values, length):
    shape = values.shape
    cell = np.diag(length)
    atoms = ase.Atoms("H", positions=[np.asarray(length) / 2], cell=cell, pbc=True)
    return DensityGrid(atoms, values, np.zeros(3), cell / np.array(shape)[:, None])


def test_gaussian_charge_has_erf_potential():
    # q = 1 e Gaussian of width s in a 24 Å cube; φ = q/(4πε0 r)·erf(r/(√2 s)) plus the
    # neutralising background's q r²/(6 ε0 V); compared as differences to drop the constant
    q, s, length, n = 1.0, 0.5, 24.0, 120
    h = length / n
    x = np.arange(n) * h - length / 2
    r2 = x[:, None, None] ** 2 + x[None, :, None] ** 2 + x[None, None, :] ** 2
    rho = q * np.exp(-r2 / (2 * s**2)) / (2 * np.pi * s**2) ** 1.5
    phi = esp_periodic(periodic_grid(np.fft.ifftshift(rho), (length,) * 3)).values
    phi = np.fft.fftshift(phi)
    centre = n // 2
    r = np.arange(1, 13) * h * 2
    numeric = phi[centre + np.arange(1, 13) * 2, centre, centre]
    analytic = q / (4 * np.pi * EPSILON_0 * r) * erf(r / (np.sqrt(2) * s)) + q * r**2 / (6 * EPSILON_0 * length**3)
    # what remains is the images' cubic term, ~ q/(4πε0)·r⁴/L⁵ ≈ 3e-3 V at r = 4.8 Å (of ~18 V)
    np.testing.assert_allclose(numeric - numeric[-1], analytic - analytic[-1], atol=5e-3)


def sheet_pair(z, z_plus, z_minus, sigma, width=0.3):
    """Line charge (e/Å per Å² of area) of +σ at z_plus and −σ at z_minus, Gaussian-smeared."""
    g = lambda z0: np.exp(-((z - z0) ** 2) / (2 * width**2)) / np.sqrt(2 * np.pi * width**2)  # noqa: E731
    return sigma * (g(z_plus) - g(z_minus))


def test_sheet_pair_gives_linear_esp_between_them_open_boundary():
    z = np.linspace(0, 30, 601)
    sigma, area = 0.01, 20.0  # e/Å²
    phi = esp_planar(z, sheet_pair(z, 10.0, 20.0, sigma) * area, area, boundary="open")
    between = (z > 12) & (z < 18)
    slope = np.polyfit(z[between], phi[between], 1)[0]
    assert slope == pytest.approx(-sigma / EPSILON_0, rel=1e-4)
    assert np.ptp(phi[z < 8]) < 1e-9 and np.ptp(phi[z > 22]) < 1e-6  # no field outside


def test_1d_and_3d_solvers_agree_on_a_slab():
    length, n = (6.0, 6.0, 30.0), (12, 12, 150)
    z = np.arange(n[2]) * length[2] / n[2]
    line = sheet_pair(z, 11.0, 19.0, 0.02)
    rho = np.broadcast_to(line, n).copy()
    phi_3d = esp_periodic(periodic_grid(rho, length)).values.mean(axis=(0, 1))
    phi_1d = esp_planar(z, line * length[0] * length[1], length[0] * length[1], boundary="periodic")
    np.testing.assert_allclose(phi_3d, phi_1d, atol=1e-8)


def test_slab_response_of_screening_charge_follows_gauss_law():
    # a model response: −q on the left face, +q on the right (electrons pushed left
    # means Δn > 0 on the left); fields inside cancel as in a metal
    length, n = (5.0, 5.0, 40.0), (10, 10, 400)
    area = length[0] * length[1]
    field = -1.0  # V/Å applied along z
    q = EPSILON_0 * abs(field) * area  # Gauss's law: induced charge per face, e
    z = np.arange(n[2]) * length[2] / n[2]
    g = lambda z0: np.exp(-((z - z0) ** 2) / (2 * 0.4**2)) / np.sqrt(2 * np.pi * 0.4**2)  # noqa: E731
    line_dn = q * (g(24.0) - g(16.0))  # electrons accumulate on the +z face for E_z < 0
    values = np.broadcast_to(line_dn / area, n).copy()
    atoms = ase.Atoms("Au2", positions=[(0, 0, 17.0), (0, 0, 23.0)], cell=np.diag(length), pbc=[True, True, False])
    grid = DensityGrid(atoms, values, np.zeros(3), np.diag(length) / np.array(n)[:, None])
    result = slab_response(grid, axis=2)
    assert result.middle == pytest.approx(20.0)
    assert result.transfer_e == pytest.approx(q, rel=1e-3)
    assert result.right_e == pytest.approx(q, rel=1e-3) and result.left_e == pytest.approx(-q, rel=1e-3)
    assert result.net_e == pytest.approx(0.0, abs=1e-9)
    # between the induced layers the response field cancels the applied one: slope = E_z
    assert result.esp_slope_inside_V_per_A == pytest.approx(field, rel=1e-2)
