"""Electrostatic potentials (V) of charge densities on grids, and slab response numbers.

Sign conventions: electrons are negative, so the charge density of an electron
density n (e/Å³) is ρ = −n. Poisson's equation ∇²φ = −ρ/ε0 with
ε0 = 0.0055263 e/(V·Å) (:data:`echemml.units.EPSILON_0`) gives φ in V for ρ in e/Å³.

- :func:`esp_periodic`: 3D FFT Poisson for a grid spanning a periodic cell (any
  triclinic cell); the k = 0 term is dropped (the cell is neutralised by a
  uniform background).
- :func:`esp_planar`: 1D Poisson on a planar-averaged line density λ(z) (e/Å),
  φ''(z) = −λ_ρ(z)/(ε0 A), either open (field and potential zero at the first
  plane, like CP2K's MT solver in z) or periodic (FFT along z).
- :func:`slab_response`: for a response Δn of a slab along z: charge moved across
  the middle plane, the response ESP drop across the slab and its slope inside
  the metal (the paper's Fig. 6 numbers).
- :func:`split_line_density`: the charge of a line density below and above a plane.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..grid import DensityGrid
from ..units import EPSILON_0


def _reciprocal_k_squared(grid: DensityGrid) -> np.ndarray:
    """|k|² (Å⁻²) of every FFT frequency of a grid spanning its cell."""
    cell = grid.voxel * np.array(grid.shape)[:, None]
    reciprocal = 2.0 * np.pi * np.linalg.inv(cell).T  # rows b_i with a_i·b_j = 2π δ_ij
    m = [np.fft.fftfreq(n, d=1.0 / n) for n in grid.shape]
    k = (
        m[0][:, None, None, None] * reciprocal[0]
        + m[1][None, :, None, None] * reciprocal[1]
        + m[2][None, None, :, None] * reciprocal[2]
    )
    return np.sum(k**2, axis=-1)


def esp_periodic(charge: DensityGrid) -> DensityGrid:
    """ESP (V) of a charge density ρ (e/Å³, positive for positive charge) in a periodic cell.

    The grid must span the cell (CHGCAR and CP2K grids do). For an electron density
    pass ``grid.with_values(-grid.values)``. The average potential is zero.
    """
    if not np.allclose(charge.voxel * np.array(charge.shape)[:, None], np.asarray(charge.atoms.cell), atol=1e-4):
        raise ValueError("esp_periodic needs a grid that spans its periodic cell")
    k2 = _reciprocal_k_squared(charge)
    rho_k = np.fft.fftn(charge.values)
    k2[0, 0, 0] = 1.0
    phi_k = rho_k / (EPSILON_0 * k2)
    phi_k[0, 0, 0] = 0.0
    return charge.with_values(np.real(np.fft.ifftn(phi_k)))


def esp_planar(z: np.ndarray, line_charge: np.ndarray, area: float, boundary: str = "open") -> np.ndarray:
    """ESP φ(z) in V from a planar-averaged line charge λ_ρ(z) in e/Å on equally spaced z (Å).

    ``area`` is the cross-section (Å²). ``boundary="open"``: E and φ vanish at z[0]
    (a slab with vacuum, no periodic images along z). ``"periodic"``: the cell
    repeats along z (FFT solution, zero mean).
    """
    z = np.asarray(z, dtype=float)
    line_charge = np.asarray(line_charge, dtype=float)
    dz = z[1] - z[0]
    if boundary == "periodic":
        n = len(z)
        k = 2.0 * np.pi * np.fft.fftfreq(n, d=dz)
        rho_k = np.fft.fft(line_charge / area)
        k[0] = 1.0
        phi_k = rho_k / (EPSILON_0 * k**2)
        phi_k[0] = 0.0
        return np.real(np.fft.ifft(phi_k))
    if boundary != "open":
        raise ValueError("boundary must be 'open' or 'periodic'")
    # E(z) = ∫ρ dz / ε0 (Gauss), φ = −∫E dz, both by the trapezoidal rule
    charge_per_area = line_charge / area
    field = np.concatenate([[0.0], np.cumsum(0.5 * (charge_per_area[1:] + charge_per_area[:-1]) * dz)]) / EPSILON_0
    return -np.concatenate([[0.0], np.cumsum(0.5 * (field[1:] + field[:-1]) * dz)])


@dataclass
class SlabResponse:
    """Response of a slab to a field along one axis (the paper's Fig. 6 quantities).

    Attributes:
        z: plane positions, Å.
        line_density: planar-integrated Δn, e/Å.
        esp: response ESP φ(z) from −Δn, V (open boundary: zero at z[0]).
        middle: the plane dividing the slab's two faces, Å.
        left_e, right_e: ∫Δn below and above the middle plane, e.
        transfer_e: charge moved across the middle plane, e (≥ 0).
        net_e: ∫Δn over the whole grid, e (zero for a neutral response).
        esp_drop_V: φ(last plane) − φ(first plane), V.
        esp_slope_inside_V_per_A: slope of a line fitted to φ between the outermost
            atomic planes (trimmed by ``inner_margin``), V/Å.
        inside: (z_low, z_high) of that fit, Å.
    """

    z: np.ndarray
    line_density: np.ndarray
    esp: np.ndarray
    middle: float
    left_e: float
    right_e: float
    transfer_e: float
    net_e: float
    esp_drop_V: float
    esp_slope_inside_V_per_A: float
    inside: tuple[float, float]

    def as_dict(self) -> dict:
        """The scalar results, JSON-ready."""
        return {
            "middle_A": self.middle,
            "left_e": self.left_e,
            "right_e": self.right_e,
            "transfer_e": self.transfer_e,
            "net_e": self.net_e,
            "esp_drop_V": self.esp_drop_V,
            "esp_slope_inside_V_per_A": self.esp_slope_inside_V_per_A,
            "inside_A": list(self.inside),
        }


def split_line_density(z: np.ndarray, line_density: np.ndarray, middle: float) -> tuple[float, float]:
    """The charge (e) of a line density λ(z) (e/Å, equally spaced z in Å) below and above the plane ``middle`` (Å).

    Plane k holds the charge of the slice [z_k − dz/2, z_k + dz/2]; the slice the
    middle plane cuts is shared in proportion.
    """
    z = np.asarray(z, dtype=float)
    line_density = np.asarray(line_density, dtype=float)
    dz = z[1] - z[0]
    weight_below = np.clip((middle - (z - dz / 2)) / dz, 0.0, 1.0)
    return float(np.sum(line_density * weight_below) * dz), float(np.sum(line_density * (1.0 - weight_below)) * dz)


def slab_response(
    response: DensityGrid, axis: int = 2, middle: float | None = None, inner_margin: float = 0.5
) -> SlabResponse:
    """Charge transfer and response ESP of a slab from its response density Δn (e/Å³).

    ``middle`` (Å along ``axis``) defaults to the mean of the outermost atomic
    positions along that axis. The slope inside the metal is fitted between the
    outermost atoms moved ``inner_margin`` Å inwards.
    """
    z, lam = response.planar_average(axis)
    normal = np.cross(*(response.voxel[a] for a in range(3) if a != axis))
    normal = normal / np.linalg.norm(normal)
    if response.voxel[axis] @ normal < 0:
        normal = -normal
    atom_z = response.atoms.positions @ normal
    if middle is None:
        middle = 0.5 * (atom_z.min() + atom_z.max())
    left, right = split_line_density(z, lam, middle)
    esp = esp_planar(z, -lam, response.plane_area(axis), boundary="open")
    low, high = atom_z.min() + inner_margin, atom_z.max() - inner_margin
    inside = (z >= low) & (z <= high)
    slope = float(np.polyfit(z[inside], esp[inside], 1)[0]) if inside.sum() >= 2 else float("nan")
    return SlabResponse(
        z=z,
        line_density=lam,
        esp=esp,
        middle=float(middle),
        left_e=left,
        right_e=right,
        transfer_e=float(0.5 * (abs(left) + abs(right))),
        net_e=left + right,
        esp_drop_V=float(esp[-1] - esp[0]),
        esp_slope_inside_V_per_A=slope,
        inside=(float(low), float(high)),
    )
