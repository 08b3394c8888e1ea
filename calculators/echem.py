"""EChemCalculator: an ASE calculator that routes each property to the model that owns it.

The potential (an echemml energy model, or any ASE calculator) gives energy, forces
and stress, and a committee potential adds ``energy_std`` and ``forces_std``; a
density model gives the density on a grid around the atoms, its electron count,
Bader charges and the dipole (without one, an echemml potential gives the dipole as
−∂E/∂ε, the FIREANN way); a response model gives the density response Δn to the
field (with both, the density in a field is the density model's zero-field n0 plus Δn(ε),
so that a model of n0 alone, such as ``au100-density``, gives an electrode's Bader charges
in a field), and for a slab the electrode's numbers (``charge_transfer`` across the middle
plane and ``face_charges`` in e, ``esp_drop`` in V, ``esp_slope`` inside the metal in
V/Å, ``surface_charge`` in e/Å², and from a committee ``charge_transfer_std``, its
members' spread in e) as ``echemml response`` reports them. Units: eV, Å, e, V/Å,
e·Å, e/Å³.

Everything follows ASE's contract, so every ASE dynamics, optimiser and trajectory
writer works unchanged: ``Calculator.calculate`` runs first, a property is computed
only when asked for and kept until the atoms, the field (``calc.set(field=...)`` or
``atoms.info["external_field"]``) or the net charge (``atoms.info["charge"]``)
change. Per-frame scalars that ASE has no name for (``energy_std``, ``electrons``) go
to ``atoms.info`` and per-atom ones (``forces_std``, ``bader_charges``) to
``atoms.arrays`` of the atoms asked about, so that extxyz keeps them.

A charged system in a uniform field ε has the energy −Q ε·R_c of its net charge Q,
which depends on the origin and which no local model can learn: an echemml potential
adds it explicitly (:mod:`echemml.model.charged_field`), so that the total force on an
ion is exactly Q ε.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import ase
import numpy as np
from ase.calculators.calculator import Calculator, PropertyNotImplementedError, all_changes

from echemml import keys
from echemml.analysis.bader import bader_charges, model_valence_charges
from echemml.errors import EchemmlError
from echemml.grid import DensityGrid, uniform_grid
from echemml.model.charged_field import net_charge_dipole, net_charge_field_terms

DROP_TOLERANCE = 0.001  # relative: how closely a field found for potential_drop gives that drop
MAX_DROP_STEPS = 5
POTENTIAL_PROPERTIES = ("energy", "free_energy", "forces", "stress")
COMMITTEE_PROPERTIES = (keys.std_key(keys.ENERGY), keys.std_key(keys.FORCES))
DENSITY_PROPERTIES = ("density", "electrons", "model_electrons", "charges", "dipole")
RESPONSE_PROPERTIES = ("response",)
ELECTRODE_PROPERTIES = (keys.CHARGE_TRANSFER, keys.FACE_CHARGES, keys.ESP_DROP, keys.ESP_SLOPE, keys.SURFACE_CHARGE)
ELECTRODE_COMMITTEE_PROPERTIES = (keys.std_key(keys.CHARGE_TRANSFER),)
INFO_KEYS = {  # result → atoms.info key
    "field": "field", "energy_std": "energy_std", "electrons": "electrons", "model_electrons": "model_electrons",
    "charge_transfer": "charge_transfer",
    "face_charges": "face_charges", "esp_drop": "esp_drop", "esp_slope": "esp_slope", "surface_charge": "surface_charge",
    "charge_transfer_std": "charge_transfer_std",
}
ARRAY_KEYS = {"forces_std": "forces_std", "charges": "bader_charges"}  # result → atoms.arrays key


def _model(model):
    """An echemml model from a model object, a file path or a shipped model's name."""
    if model is None or not isinstance(model, (str, os.PathLike)):
        return model
    from echemml.model import load_model

    return load_model(model)


class EChemCalculator(Calculator):
    """Energy and forces from a potential, densities and charges from density models, in a uniform field.

    Args:
        potential: an echemml energy model (object, path or shipped name) or any ASE calculator.
        density_model: an echemml density model n(r; ε) (object, path or name), or None.
        response_model: an echemml response model Δn(r; ε), or None.
        field: the uniform field, V/Å (``atoms.info["external_field"]`` overrides it per frame).
        charge: the net charge, e (``atoms.info["charge"]`` overrides it; default 0).
        spacing, margin: the grid of the density properties, Å (molecules get ``margin`` of vacuum).
        bader_backend, vacuum_tol: how Bader charges are computed (:func:`echemml.analysis.bader.bader_charges`).
        slab_axis: the axis normal to a slab's faces (default 2, z), for the electrode properties.
        normalize_electrons: scale the density model's prediction (n0, with a response model) so that
            the density holds the valence electrons Σ Z_val − charge, as a DFT density does (default
            True; needs the model's valence charges, else the density is left as predicted). The
            model's own count stays in ``model_electrons``. Bader charges then sum to the net charge
            and the dipole of a neutral system does not depend on the origin.
        potential_drop: hold the slab at this ESP drop (V) instead of a field: at every configuration
            the field along ``slab_axis`` whose predicted drop it is is found (needs a response model)
            and reported as ``field``; ``field`` and ``info["external_field"]`` are then ignored.
    """

    default_parameters = {
        "field": (0.0, 0.0, 0.0), "charge": 0, "spacing": 0.1, "margin": 4.0,
        "bader_backend": "baderkit", "vacuum_tol": 1e-4, "slab_axis": 2, "potential_drop": None,
        "normalize_electrons": True,
    }

    def __init__(self, potential=None, density_model=None, response_model=None, **kwargs):
        self._forget_configuration()
        self._field_per_volt = 0.0  # V/Å per V of drop, from the last solve (0: none yet)
        super().__init__(**kwargs)
        self.potential = _model(potential)
        self.density_model = _model(density_model)
        self.response_model = _model(response_model)
        for name, model, head in (("density_model", self.density_model, keys.DENSITY),
                                  ("response_model", self.response_model, keys.RESPONSE)):
            if model is not None and model.head != head:
                raise EchemmlError(f"{name}: a {model.head} model; give a {head} model")
        self._check_potential_drop()
        self.implemented_properties = self._properties()

    def _check_potential_drop(self) -> None:
        if self.parameters.potential_drop is not None and getattr(self, "response_model", None) is None:
            raise EchemmlError("potential_drop needs a response model (response_model=...) to find the field")

    # ------------------------------------------------------------------ routing
    def _echemml_potential(self) -> bool:
        return self.potential is not None and not isinstance(self.potential, Calculator)

    def _properties(self) -> list[str]:
        """The properties this instance computes, from the models it was given."""
        properties: list[str] = []
        if self._echemml_potential():
            if self.potential.head != keys.ENERGY:
                raise EchemmlError(f"potential: a {self.potential.head} model; give an energy model or an ASE calculator")
            properties += POTENTIAL_PROPERTIES + (COMMITTEE_PROPERTIES if len(self.potential.members) > 1 else ())
            properties.append("dipole")  # −∂E/∂ε, unless a density model gives it
        elif self.potential is not None:
            properties += [p for p in POTENTIAL_PROPERTIES if p in self.potential.implemented_properties]
        if self.density_model is not None:
            properties += DENSITY_PROPERTIES
        if self.response_model is not None:
            properties += RESPONSE_PROPERTIES + ELECTRODE_PROPERTIES + ("field",)
            if len(self.response_model.members) > 1:
                properties += ELECTRODE_COMMITTEE_PROPERTIES
        return list(dict.fromkeys(properties))

    def field_of(self, atoms: ase.Atoms) -> np.ndarray:
        """The field the atoms sit in, V/Å: their ``info["external_field"]``, else the calculator's;
        under ``potential_drop``, the field that gives that drop (:meth:`_field_for_drop`)."""
        if self.parameters.potential_drop is not None:
            return self._field_for_drop()
        return np.asarray(atoms.info.get("external_field", self.parameters.field), dtype=float).reshape(3)

    def charge_of(self, atoms: ase.Atoms) -> int:
        """The net charge, e: ``atoms.info["charge"]``, else the calculator's."""
        return int(atoms.info.get("charge", self.parameters.charge))

    def reset(self) -> None:
        """Forget every result (ASE calls this when the atoms change)."""
        super().reset()
        self._forget_configuration()

    def _forget_configuration(self) -> None:
        self._slab_predictions: dict = {}  # field → PredictedSlabResponse of the current configuration
        self._slab_predictor = None  # the response model's GridPredictor on the current configuration's grid

    def set(self, **kwargs) -> dict:
        """Change parameters (``field``, ``charge``, ``spacing``, …); any change discards the results."""
        changed = super().set(**kwargs)
        if changed:
            self.reset()
            if hasattr(self, "response_model"):  # not while __init__ sets the first parameters
                self._check_potential_drop()
        return changed

    def check_state(self, atoms: ase.Atoms, tol: float = 1e-15) -> list[str]:
        """ASE's changes, plus 'external_field' and 'charge' when the atoms' info changed them."""
        changes = super().check_state(atoms, tol)
        if self.atoms is not None and self.parameters.potential_drop is None:  # else the field is a result
            if not np.allclose(self.field_of(atoms), self.field_of(self.atoms), rtol=0.0, atol=tol):
                changes.append("external_field")
            if self.charge_of(atoms) != self.charge_of(self.atoms):
                changes.append("charge")
        return changes

    def calculate(
        self, atoms: ase.Atoms | None = None, properties: Sequence[str] = ("energy",),
        system_changes: Sequence[str] = all_changes,
    ) -> None:
        """Fill ``results`` with the properties asked for (and what comes with them), nothing more."""
        super().calculate(atoms, properties, system_changes)
        if system_changes:  # ASE empties results on a change without calling reset
            self._forget_configuration()
        for name in properties:
            if name in self.results:
                continue
            if name in POTENTIAL_PROPERTIES + COMMITTEE_PROPERTIES and self.potential is not None:
                self._potential_results(name)
            elif name in DENSITY_PROPERTIES and self.density_model is not None:
                self._density_results(name)
            elif name == "dipole" and self._echemml_potential():
                self._potential_results(name)
            elif name in RESPONSE_PROPERTIES and self.response_model is not None:
                self._response()
            elif name in ELECTRODE_PROPERTIES + ELECTRODE_COMMITTEE_PROPERTIES and self.response_model is not None:
                self._electrode_results()
            elif name == "field":
                self.results["field"] = self.field_of(self.atoms)
            else:
                raise PropertyNotImplementedError(f"{name}: no model of this calculator gives it")
        if atoms is not None:
            self._annotate(atoms)

    # -------------------------------------------------------------- potential
    def _potential_results(self, name: str) -> None:
        atoms = self.atoms
        if not self._echemml_potential():
            value = self.potential.get_property(name, atoms)
            self.results[name] = value
            return
        from echemml.model import predict_energy

        stress = name == "stress"
        if stress and not np.all(atoms.pbc):
            raise PropertyNotImplementedError("stress: the atoms are not periodic along all three axes")
        field, charge = self.field_of(atoms), self.charge_of(atoms)
        # the dipole −∂E/∂ε comes from the same backward pass as the forces, unless a density model gives it
        dipole = self.density_model is None
        predicted = predict_energy(self.potential, atoms, field=field, stress=stress, dipole=dipole)
        charge_energy, charge_forces = net_charge_field_terms(atoms.positions, charge, field)
        predicted[keys.ENERGY] += charge_energy
        predicted[keys.FORCES] = predicted[keys.FORCES] + charge_forces
        if dipole:  # the learned part by autograd, plus Q·R_c of the net charge's −Q ε·R_c
            predicted[keys.DIPOLE] = predicted[keys.DIPOLE] + net_charge_dipole(atoms.positions, charge)
        self.results.update(predicted)
        self.results["free_energy"] = self.results[keys.ENERGY]

    # -------------------------------------------------------------- electrode
    def _electrode_results(self) -> None:
        """What a slab's predicted response Δn says, as ``echemml response`` reports it: the charge moved
        across the middle plane (e), the charge on each face (e, lower then upper along the slab axis),
        the ESP drop across the cell (V), the ESP slope inside the metal (V/Å), and the transfer per
        area of the cell's face (e/Å²)."""
        atoms, axis = self.atoms, int(self.parameters.slab_axis)
        predicted = self._slab_prediction(self.field_of(atoms))
        numbers = predicted.numbers
        in_plane = [vector for index, vector in enumerate(np.asarray(atoms.cell)) if index != axis]
        area = float(np.linalg.norm(np.cross(*in_plane)))
        self.results.update({
            "charge_transfer": numbers.transfer_e,
            "face_charges": np.array([numbers.left_e, numbers.right_e]),
            "esp_drop": numbers.esp_drop_V,
            "esp_slope": numbers.esp_slope_inside_V_per_A,
            "surface_charge": numbers.transfer_e / area,
        })
        spread = predicted.committee_spread()
        if spread is not None:
            self.results[keys.std_key(keys.CHARGE_TRANSFER)] = spread["transfer_e_std"]

    def _slab_prediction(self, field: np.ndarray):
        """The response model's prediction (:class:`~echemml.workflows.PredictedSlabResponse`) for
        ``self.atoms`` in ``field`` (V/Å), kept for the configuration so that a solve and the results share it."""
        from echemml.model import GridPredictor
        from echemml.workflows import slab_response_of_members

        key = tuple(np.round(np.asarray(field, dtype=float), 12))
        known = self._slab_predictions
        if key not in known:
            if not np.any(self.atoms.pbc):
                raise EchemmlError("electrode properties need a slab: atoms periodic in the plane of its faces")
            if self._slab_predictor is None:  # a second field on these atoms reuses its field-free half
                grid = uniform_grid(self.atoms, self.parameters.spacing, self.parameters.margin, dtype=np.float32)
                self._slab_predictor = GridPredictor(self.response_model, grid)
            predictor = self._slab_predictor
            known[key] = slab_response_of_members(self.response_model, predictor.grid, predictor.member_grids(field),
                                                  axis=int(self.parameters.slab_axis))
        return known[key]

    def _field_for_drop(self) -> np.ndarray:
        """The field along the slab axis (V/Å) whose predicted ESP drop is ``potential_drop`` (V).

        The response is linear in the field at these strengths, so the field per volt
        found for the previous configuration (1 V/Å for the first) gives a trial field
        whose drop is predicted; when that drop is within ``DROP_TOLERANCE`` (relative)
        of the target it is kept — along MD, where the field per volt changes little
        from frame to frame, one prediction per frame — else secant steps refine it.
        """
        if "field" in self.results:
            return self.results["field"]
        target = float(self.parameters.potential_drop)
        direction = np.eye(3)[int(self.parameters.slab_axis)]
        close = DROP_TOLERANCE * max(abs(target), 1e-3)
        trial = self._field_per_volt * target if self._field_per_volt else 1.0
        points = [(0.0, 0.0), (trial, self._slab_prediction(trial * direction).numbers.esp_drop_V)]  # (V/Å, V)
        while abs(points[-1][1] - target) > close:
            if len(points) > MAX_DROP_STEPS + 1:
                raise EchemmlError(f"potential_drop {target} V: no field found within {DROP_TOLERANCE:.1%} in "
                                   f"{MAX_DROP_STEPS} steps (last {points[-1][0]:.4f} V/Å gave {points[-1][1]:.4f} V)")
            (f0, d0), (f1, d1) = points[-2:]
            strength = f1 + (target - d1) * (f1 - f0) / (d1 - d0)
            points.append((strength, self._slab_prediction(strength * direction).numbers.esp_drop_V))
        strength = points[-1][0]
        if target:
            self._field_per_volt = strength / target
        self.results["field"] = strength * direction
        return self.results["field"]

    # ---------------------------------------------------------------- density
    def _grid_of(self, model, field: np.ndarray | None = None) -> DensityGrid:
        """The model's values (e/Å³) on a grid around ``self.atoms`` in ``field`` (V/Å; default: their field)."""
        from echemml.model import predict_grid

        grid = uniform_grid(self.atoms, self.parameters.spacing, self.parameters.margin, dtype=np.float32)
        return predict_grid(model, grid, field=self.field_of(self.atoms) if field is None else field)

    def _density_in_field(self) -> DensityGrid:
        """n(r; ε), e/Å³: the density model in the field; with a response model, the density model's
        zero-field n0 plus the response Δn(ε) (a model such as au100-density learns n0 only). The
        model's part holds Σ Z_val − charge electrons under ``normalize_electrons`` (Δn holds none)."""
        density = self._grid_of(self.density_model, field=None if self.response_model is None else np.zeros(3))
        self.results["model_electrons"] = density.integral()
        valence = self._valence_or_none()
        if self.parameters.normalize_electrons and valence is not None:
            electrons = float(valence.sum()) - self.charge_of(self.atoms)
            density = density.with_values(density.values * (electrons / self.results["model_electrons"]))
        if self.response_model is None:
            return density
        return density.with_values(density.values + self._response().values)

    def _response(self) -> DensityGrid:
        """Δn(r; ε), e/Å³, kept in ``results``: for a slab the electrode numbers' own (neutralised) Δn,
        so that density, charges and electrode numbers share one prediction; else the model's grid."""
        if "response" not in self.results:
            if np.any(self.atoms.pbc):
                self.results["response"] = self._slab_prediction(self.field_of(self.atoms)).response
            else:
                self.results["response"] = self._grid_of(self.response_model)
        return self.results["response"]

    def _valence_or_none(self) -> np.ndarray | None:
        """Z_val of each atom (e) from the density model's metadata, or None where it lists none."""
        return model_valence_charges(getattr(self.density_model, "metadata", {}), self.atoms.get_chemical_symbols())

    def _valence(self) -> np.ndarray:
        valence = self._valence_or_none()
        if valence is None:
            raise EchemmlError("the density model lists no valence charges (metadata 'valence_charges'): "
                               "charges and dipole need each atom's Z_val")
        return valence

    def _density_results(self, name: str) -> None:
        if "density" not in self.results:
            density = self._density_in_field()
            self.results["density"] = density
            self.results["electrons"] = density.integral()
        density = self.results["density"]
        if name == "charges":
            density.metadata["valence_charges"] = self._valence()
            bader = bader_charges(density, backend=self.parameters.bader_backend,
                                  vacuum_tol=self.parameters.vacuum_tol)
            self.results["charges"] = bader.charges
        elif name == "dipole":
            # Σ Z_val R − ∫ n r dV, e·Å, origin at 0 (electrons negative)
            electrons_moment = np.zeros(3)
            flat = density.values.reshape(-1).astype(np.float64)
            for chunk, points in density.iter_points():
                electrons_moment += flat[chunk] @ points
            electrons_moment *= density.voxel_volume
            self.results["dipole"] = self._valence() @ self.atoms.positions - electrons_moment

    def _annotate(self, atoms: ase.Atoms) -> None:
        """Copy the results ASE has no standard name for into ``atoms.info`` and ``atoms.arrays``."""
        for name, key in INFO_KEYS.items():
            if name in self.results:
                value = np.asarray(self.results[name], dtype=float)
                atoms.info[key] = float(value) if value.ndim == 0 else value
        for name, key in ARRAY_KEYS.items():
            if name in self.results:
                atoms.arrays[key] = np.asarray(self.results[name], dtype=float)  # (N,) or (N, 3)


__all__ = ["EChemCalculator"]
