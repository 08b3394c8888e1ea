"""FI-EAD: field-induced embedded atom density features of atoms and ghost grid points.

For a centre i (a real atom or a ghost grid point) and feature m (Feng, Zhang &
Jiang, JCTC 2025, Eq. 1–3):

    ρ_i^m = Σ_{l=0..L} Σ_{lx+ly+lz=l} l!/(lx! ly! lz!) ·
            [ Σ_k d_{l,k}^m ( c_ε,k φ_{lx ly lz}(ε) + Σ_{j, r_ij<rc} c_j,k φ^k_{lx ly lz}(r_ij) ) ]²

    φ^k_{lx ly lz}(r) = r̂x^lx r̂y^ly r̂z^lz · exp(−(|r| − r_s,k)² / (2σ_k²)) · f_c(|r|)
    φ_{lx ly lz}(ε)   = εx^lx εy^ly εz^lz          (ε in V/Å)
    f_c(r) = (0.5·cos(π r / rc) + 0.5)²

Centres r_s and widths σ (Å) are learnable and belong to the neighbour's element.
The sums are ordered as in the published REANN/FIREANN code: first one
scatter-add over neighbours gives S[i, a, k] (a = Cartesian component, k = radial
function), with the field term as its starting value; then the contraction with
d[l, k, m], squared and summed over the components of each l. No per-pair tensor
with M entries is ever formed; the cost per centre is O(neighbours × K × A).

The multinomial weight l!/(lx! ly! lz!) is folded into the angular terms as its
square root, so that the square carries it.
"""

from __future__ import annotations

import math
import torch
from torch import nn


PAIR_BATCH = 262_144  # pairs per batch in prediction (≈ 130 MB of per-pair terms at K = 12)


def cartesian_components(max_l: int) -> list[tuple[int, int, int]]:
    """The exponents (lx, ly, lz) of the Cartesian angular terms, l = 0..max_l in order."""
    return [
        (lx, ly, l - lx - ly)
        for l in range(max_l + 1)
        for lx in range(l, -1, -1)
        for ly in range(l - lx, -1, -1)
    ]


def multinomial_weight(exponents: tuple[int, int, int]) -> int:
    """l!/(lx! ly! lz!) for exponents (lx, ly, lz)."""
    lx, ly, lz = exponents
    return math.factorial(lx + ly + lz) // (math.factorial(lx) * math.factorial(ly) * math.factorial(lz))


def feature_count(n_radial: int, max_l: int) -> int:
    """Number of FI-EAD features M = K(K+1)/2 · (L+1) (108 for K=8, L=2; 234 for K=12)."""
    return n_radial * (n_radial + 1) // 2 * (max_l + 1)


def cosine_cutoff(distance: torch.Tensor, cutoff: float) -> torch.Tensor:
    """f_c(r) = (0.5 cos(π r / rc) + 0.5)² for r < rc, else 0 (r, rc in Å)."""
    value = (0.5 * torch.cos(distance * (math.pi / cutoff)) + 0.5) ** 2
    return torch.where(distance < cutoff, value, torch.zeros_like(value))


class AngularTerms(nn.Module):
    """Weighted Cartesian monomials √(l!/(lx!ly!lz!)) · x^lx y^ly z^lz of vectors (n, 3) → (n, A)."""

    def __init__(self, max_l: int):
        super().__init__()
        self.max_l = max_l
        components = cartesian_components(max_l)
        self.n_components = len(components)
        exponents = torch.tensor(components, dtype=torch.long)
        # kept in float64 outside the module's buffers, so that a float32 → float64
        # conversion of the model cannot leave √2 rounded to float32 (that would break
        # rotational invariance at the 1e-8 level)
        self.sqrt_weights = torch.tensor(
            [math.sqrt(multinomial_weight(c)) for c in components], dtype=torch.float64
        )
        self.register_buffer("exponents", exponents, persistent=False)
        # the angular momentum l of every component
        self.register_buffer("degree", exponents.sum(dim=1), persistent=False)

        # each component of degree l ≥ 1 is a component of degree l − 1 times x, y or z:
        # per degree, one gather of the parents and one of the axes
        self.parents_per_degree: list[tuple[torch.Tensor, torch.Tensor]] = []
        start = 1
        for l in range(1, max_l + 1):
            count = (l + 1) * (l + 2) // 2
            parents, axes = [], []
            for lx, ly, lz in components[start : start + count]:
                axis = 0 if lx else (1 if ly else 2)
                parent = [lx, ly, lz]
                parent[axis] -= 1
                parents.append(components.index(tuple(parent)) - (start - l * (l + 1) // 2))
                axes.append(axis)
            self.parents_per_degree.append((torch.tensor(parents), torch.tensor(axes)))
            start += count

    def forward(self, vectors: torch.Tensor) -> torch.Tensor:
        block = torch.ones_like(vectors[:, :1])
        blocks = [block]
        for parents, axes in self.parents_per_degree:
            block = block[:, parents.to(vectors.device)] * vectors[:, axes.to(vectors.device)]
            blocks.append(block)
        return torch.cat(blocks, dim=1) * self.sqrt_weights.to(vectors.device, vectors.dtype)


class FieldAwareDensityFeatures(nn.Module):
    """FI-EAD features with learnable radial functions and contraction coefficients.

    One set of radial parameters (per neighbour element) is shared by every
    stage; each stage (message-passing iteration, plus the final one that ghost
    points use) has its own contraction d[L+1, K, M] and field coefficient c_ε[K].

    Args:
        n_species: number of elements the model knows.
        n_radial: K, Gaussian radial functions per element.
        max_l: L, highest angular momentum.
        cutoff: rc, Å.
        n_stages: number of contraction sets (T + 1 for T iterations).
    """

    def __init__(self, n_species: int, n_radial: int, max_l: int, cutoff: float, n_stages: int):
        super().__init__()
        self.n_species = n_species
        self.n_radial = n_radial
        self.max_l = max_l
        self.cutoff = float(cutoff)
        self.n_stages = n_stages
        self.n_features = feature_count(n_radial, max_l)
        self.angular = AngularTerms(max_l)
        centers = torch.linspace(0.0, cutoff, n_radial + 1)[:-1] if n_radial > 1 else torch.zeros(1)
        width = cutoff / n_radial
        self.radial_centers = nn.Parameter(centers.repeat(n_species, 1))  # Å
        self.radial_widths = nn.Parameter(torch.full((n_species, n_radial), width))  # Å
        scale = 1.0 / math.sqrt(n_radial)
        self.contraction = nn.Parameter(
            torch.randn(n_stages, max_l + 1, n_radial, self.n_features) * scale
        )
        self.field_coefficients = nn.Parameter(torch.zeros(n_stages, n_radial))

    # ----------------------------------------------------------- neighbour sums
    def field_term(self, stage: int, centre_field: torch.Tensor) -> torch.Tensor:
        """c_ε φ(ε) for each centre: (n, 3) fields in V/Å → (n, A, K)."""
        return self.angular(centre_field)[:, :, None] * self.field_coefficients[stage][None, None, :]

    def pair_basis(
        self, vectors: torch.Tensor, neighbour_species: torch.Tensor, neighbour_coefficients: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Radial (n, K) weighted by c_j and f_c, and angular (n, A) parts of each pair."""
        distance2 = (vectors * vectors).sum(dim=1)
        distance = torch.sqrt(torch.clamp(distance2, min=1e-20))
        unit = vectors / torch.clamp(distance, min=1e-6)[:, None]
        centers = self.radial_centers[neighbour_species]
        widths = self.radial_widths[neighbour_species]
        gauss = torch.exp(-((distance[:, None] - centers) ** 2) / (2.0 * widths * widths))
        radial = gauss * (cosine_cutoff(distance, self.cutoff)[:, None] * neighbour_coefficients)
        return radial, self.angular(unit)

    def neighbour_sums(
        self,
        stage: int,
        vectors: torch.Tensor,
        centre_index: torch.Tensor,
        n_centres: int,
        neighbour_species: torch.Tensor,
        neighbour_coefficients: torch.Tensor,
        centre_field: torch.Tensor,
    ) -> torch.Tensor:
        """S[i, a, k] = c_ε,k φ_a(ε_i) + Σ_j c_j,k φ^k_a(r_ij), shape (n_centres, A, K).

        ``vectors`` (n_pairs, 3) point from centre to neighbour, Å;
        ``centre_index`` (n_pairs,) says which centre each pair belongs to;
        ``neighbour_species`` (n_pairs,) and ``neighbour_coefficients``
        (n_pairs, K) describe the neighbour; ``centre_field`` is (n_centres, 3), V/Å.
        """
        sums = self.field_term(stage, centre_field)
        if len(centre_index) == 0:
            return sums
        if torch.is_grad_enabled():
            radial, angular = self.pair_basis(vectors, neighbour_species, neighbour_coefficients)
            return sums.index_add(0, centre_index, angular[:, :, None] * radial[:, None, :])
        # prediction: pairs in batches, so memory stays bounded however many pairs a chunk has
        sums = sums.contiguous()
        for first in range(0, len(centre_index), PAIR_BATCH):
            batch = slice(first, first + PAIR_BATCH)
            radial, angular = self.pair_basis(vectors[batch], neighbour_species[batch], neighbour_coefficients[batch])
            sums.index_add_(0, centre_index[batch], angular[:, :, None] * radial[:, None, :])
        return sums

    # -------------------------------------------------------------- contraction
    def contraction_per_component(self, stage: int) -> torch.Tensor:
        """d expanded to every Cartesian component: (A, K, M)."""
        return self.contraction[stage][self.angular.degree]

    def contract(self, stage: int, sums: torch.Tensor) -> torch.Tensor:
        """ρ[i, m] = Σ_a (Σ_k S[i, a, k] d[l(a), k, m])², shape (n_centres, M)."""
        d = self.contraction_per_component(stage)
        projected = torch.einsum("nak,akm->nam", sums, d)
        return (projected * projected).sum(dim=1)

    def quadratic_form(self, stage: int) -> torch.Tensor:
        """Q[l, p, m] with ρ[i, m] = Σ_l Σ_p G[i, l, p] Q[l, p, m].

        G[i, l, p] = Σ_{a: l(a)=l} S[i, a, k_p] S[i, a, k'_p] over the pairs
        p = (k ≤ k') of radial functions; off-diagonal pairs count twice. Used by
        fast prediction to fold the contraction into the readout's first layer.
        """
        d = self.contraction[stage]  # (L+1, K, M)
        first, second = torch.triu_indices(self.n_radial, self.n_radial, device=d.device)
        factor = torch.where(first == second, 1.0, 2.0).to(d.dtype)
        return d[:, first, :] * d[:, second, :] * factor[None, :, None]

    def gram_terms(self, sums: torch.Tensor) -> torch.Tensor:
        """G[i, l, p] of :meth:`quadratic_form`, flattened to (n_centres, (L+1)·K(K+1)/2)."""
        first, second = torch.triu_indices(self.n_radial, self.n_radial, device=sums.device)
        flat_pairs = first * self.n_radial + second
        blocks, start = [], 0
        # the components of each l are contiguous (cartesian_components orders them by l)
        for l in range(self.max_l + 1):
            count = (l + 1) * (l + 2) // 2
            block = sums[:, start : start + count]
            gram = torch.bmm(block.transpose(1, 2), block).reshape(len(sums), -1)
            blocks.append(gram[:, flat_pairs])
            start += count
        return torch.cat(blocks, dim=1)
