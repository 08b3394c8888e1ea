"""Labelling many structures with a DFT code, in parallel, resumably.

:func:`label_molecules` runs the embedded PySCF engine on molecules and
:func:`label_slabs` runs CP2K (or VASP, :class:`VaspSettings`) on slabs (zero field, then each field, keeping
the density and the responses Δn = n_ε − n_0). Either runs its jobs here, in a
pool of local processes, or on a dask.distributed cluster
(:func:`echemml.parallel.map_unordered`), and keeps what its job asks for:

- ``NAME.cube`` (density or Δn source) and ``NAME.json`` (energy in eV, forces
  in eV/Å, electron counts, settings, timings) in ``out``, written atomically
  by the worker;
- the labelled frames (structure, energy, forces, charge, field; what an energy
  model trains on) appended to an extxyz file
  (:mod:`echemml.io.labelled_frames`), written by this process only (PySCF);
- the compact labels (random- and TS-order candidates with their values, and
  each atom's valence charge when the DFT code gave it,
  :func:`echemml.io.candidates.candidates_from_grid`) in a
  :class:`~echemml.io.candidates.CandidateStore`, written by this process only,
  one job at a time, so that the store has a single writer. The store is open
  only while a job's labels go in: between them other processes can read it
  (sample, train, copy or commit it) while the batch runs.

A molecule whose SCF does not converge leaves ``NAME.failed.json`` and nothing
else; a CP2K run that fails raises. Whatever finished stays when the run is
stopped, and what is already labelled is skipped, so a rerun resumes: per
molecule (in every output asked for), per slab (all its fields) in the store, and per SCF in ``out``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import ase
import numpy as np

from ..grid import DensityGrid
from ..io import read_density, write_density
from ..io.candidates import Candidates, CandidateStore, candidates_from_grid
from ..io.files import atomic_open
from ..io.labelled_frames import append_labelled_frames, frame_names, labelled_frame
from ..parallel import map_unordered
from .cp2k import Cp2kSettings, run_cp2k
from .pyscf import PySCFSettings, run_pyscf

STORE_WAIT = 600.0  # s a labeller waits for readers of its candidate store to let go


@dataclass(frozen=True)
class LabelJob:
    """How every molecule of a batch is labelled (travels to the workers pickled).

    Attributes:
        settings: the PySCF recipe (basis, functional, grid spacing and margin).
        field: uniform field in V/Å, or None; a molecule's own ``atoms.info["external_field"]``
            (V/Å, as extxyz keeps it) takes precedence.
        compute_forces: also compute forces (eV/Å) for the JSON record and the store.
        out: folder for NAME.cube + NAME.json, or None.
        frames: extxyz file the labelled frames (energy, forces, charge, field) go to, or None.
        keep_candidates: return compact labels for a candidate store.
        random_points, ts_points: candidates per molecule in random and TS order.
        ts_sigma: TS σ, Å³/e.
        seed: added to a QM9 molecule's index to seed its candidate draws.
        threads: PySCF threads per molecule (None: as the environment says).
        response: with compact labels, also the response Δn = n_ε − n_0 (the molecule's field
            must not be zero): a zero-field SCF (no forces) on the same grid, its candidates
            stored as ``NAME_response`` (target "response").
    """

    settings: PySCFSettings = dataclasses.field(default_factory=PySCFSettings)
    field: tuple[float, float, float] | None = None
    compute_forces: bool = True
    out: Path | None = None
    frames: Path | None = None
    keep_candidates: bool = False
    random_points: int = 1000
    ts_points: int = 1000
    ts_sigma: float = 30.0
    seed: int = 0
    threads: int | None = None
    response: bool = False


RESPONSE_SUFFIX = "_response"  # a molecule's Δn candidates are stored under its name + this


@dataclass
class MoleculeLabel:
    """What labelling one molecule gave: its JSON record, and its candidates (density, then Δn when
    the job asks for the response) and labelled frame if asked for."""

    name: str
    record: dict
    converged: bool
    candidates: list[Candidates] = dataclasses.field(default_factory=list)
    frame: ase.Atoms | None = None


def stored_names(store: str | os.PathLike | None) -> set[str] | None:
    """Names of the configurations in the candidate store at ``store`` (created if absent), or None."""
    if store is None:
        return None
    with CandidateStore(store, "a", wait=STORE_WAIT) as labels:
        return set(labels.names())


def _add_to_store(store: str | os.PathLike, candidates: list[Candidates]) -> None:
    """Open the store, add the configurations it lacks, close it."""
    with CandidateStore(store, "a", wait=STORE_WAIT) as labels:
        for configuration in candidates:
            if configuration.name not in labels:
                labels.add(configuration)


def is_labelled(name: str, job: LabelJob, stored: set[str] | None) -> bool:
    """Whether every output the job asks for holds molecule ``name`` (``stored``: the store's names;
    with ``job.response``, its Δn ``NAME_response`` too)."""
    in_out = job.out is None or (Path(job.out) / f"{name}.cube").exists()
    in_frames = job.frames is None or name in _frame_names(job.frames)
    in_store = stored is None or (name in stored and (not job.response or f"{name}{RESPONSE_SUFFIX}" in stored))
    return in_out and in_frames and in_store


def _frame_names(path: Path) -> set[str]:
    """:func:`frame_names` of ``path``, read once per state of the file (it is asked once per molecule)."""
    state = (str(path), path.stat().st_mtime_ns, path.stat().st_size) if path.exists() else (str(path), 0, 0)
    if _FRAME_NAMES_READ.get("state") != state:
        _FRAME_NAMES_READ.update(state=state, names=frame_names(path))
    return _FRAME_NAMES_READ["names"]


_FRAME_NAMES_READ: dict = {}


def valence_attrs(grid: DensityGrid) -> dict:
    """``{"valence_charges": Z_val of each atom (e)}`` when the grid's metadata holds them, else ``{}``."""
    valence = grid.metadata.get("valence_charges")
    return {} if valence is None else {"valence_charges": np.asarray(valence, dtype=float)}


def molecule_field(atoms: ase.Atoms, job: LabelJob) -> np.ndarray | None:
    """The field (V/Å) a molecule is labelled in: its ``info["external_field"]``, else the job's, else None."""
    field = atoms.info.get("external_field", job.field)
    return None if field is None else np.asarray(field, dtype=float).reshape(3)


def label_molecule(named: tuple[str, ase.Atoms], job: LabelJob) -> MoleculeLabel:
    """Run PySCF on one (name, molecule) pair and write or return what ``job`` asks for.

    The molecule's net charge (e) is ``atoms.info["charge"]`` (0 when absent), as
    extxyz files and ASE's calculators carry it; its field is :func:`molecule_field`.
    """
    name, atoms = named
    if job.threads:
        from pyscf import lib

        lib.num_threads(job.threads)
    charge = int(atoms.info.get("charge", 0))
    field = molecule_field(atoms, job)
    if job.response and (field is None or not np.any(field)):
        raise ValueError(f"{name}: a response label needs a nonzero field")
    result = run_pyscf(atoms, field=field, settings=job.settings, charge=charge, compute_forces=job.compute_forces)
    record = {"name": name, **result.summary(), "qm9_index": atoms.info.get("qm9_index")}
    out = None if job.out is None else Path(job.out)
    if not result.converged:
        return _failed_label(name, record, out, "SCF did not converge")
    candidates = []
    if job.keep_candidates:
        attrs = {"code": "pyscf", "settings": json.dumps(result.parameters), "charge": charge,
                 "n_valence": result.n_valence, **valence_attrs(result.grid)}
        seed = int(atoms.info.get("qm9_index", 0)) + job.seed
        candidates.append(candidates_from_grid(
            name, result.grid, n_random=job.random_points, n_ts=job.ts_points, ts_sigma=job.ts_sigma,
            seed=seed, field=result.field, forces=result.forces,
            attrs={**attrs, "energy": result.energy, "electrons_on_grid": result.grid.integral(),
                   "scf_seconds": result.timings.get("scf")},
        ))
        if job.response:
            zero = run_pyscf(atoms, field=None, settings=job.settings, charge=charge, compute_forces=False)
            if not zero.converged:
                return _failed_label(name, record, out, "zero-field SCF (for the response) did not converge")
            response = result.grid.difference(zero.grid)
            candidates.append(candidates_from_grid(
                f"{name}{RESPONSE_SUFFIX}", response, n_random=job.random_points, n_ts=job.ts_points,
                ts_sigma=job.ts_sigma, seed=seed, field=result.field, target="response",
                attrs={**attrs, "electrons_on_grid": response.integral(),
                       "scf_seconds": result.timings.get("scf", 0.0) + zero.timings.get("scf", 0.0)},
            ))
    frame = None
    if job.frames is not None:
        frame = labelled_frame(atoms, name, result.energy, result.forces, charge=charge, field=result.field)
    if out is not None:
        with atomic_open(out / f"{name}.json") as handle:
            json.dump(record, handle, indent=1)
        write_density(result.grid, out / f"{name}.cube")
    return MoleculeLabel(name, record, converged=True, candidates=candidates, frame=frame)


def _failed_label(name: str, record: dict, out: Path | None, error: str) -> MoleculeLabel:
    """A molecule's failure: ``NAME.failed.json`` (its record and ``error``) in ``out``, and no labels."""
    if out is not None:
        with atomic_open(out / f"{name}.failed.json") as handle:
            json.dump({**record, "error": error}, handle, indent=1)
    return MoleculeLabel(name, record, converged=False)


def label_molecules(
    molecules: Mapping[str, ase.Atoms],
    job: LabelJob,
    store: str | os.PathLike | None = None,
    executor: object | None = None,
    workers: int = 1,
) -> Iterator[MoleculeLabel]:
    """Label every molecule not yet labelled; yields each :class:`MoleculeLabel` as it finishes.

    ``store``, the path of a candidate store, receives the candidates of each
    converged molecule as soon as it finishes, and ``job.frames`` its labelled frame. ``workers`` local processes share the
    machine (each gets CPU count ÷ workers PySCF threads unless ``job.threads``
    says otherwise); ``executor`` (a dask.distributed Client or a
    ``concurrent.futures.Executor``) replaces the local pool, and its workers'
    environment sets their threads unless ``job.threads`` does.
    """
    if executor is None and workers > 1 and job.threads is None:
        job = dataclasses.replace(job, threads=max(1, (os.cpu_count() or 1) // workers))
    for _, label in _label_batch(
        molecules, label_molecule, job, store, is_labelled, executor, workers,
        candidates_of=lambda label: label.candidates,
    ):
        if label.frame is not None:
            append_labelled_frames(job.frames, [label.frame])
        yield label


@dataclass(frozen=True)
class VaspSettings:
    """How VASP runs one SCF of a slab: inputs from pymatgen's MPStaticSet with VASP's dipole-layer
    field (:func:`echemml.dft.vasp.write_vasp_inputs`), run under custodian (:func:`~echemml.dft.vasp.run_vasp`).

    Attributes:
        command: VASP's command line (e.g. ``"srun vasp_std"``).
        threads: OpenMP threads per run.
        incar: INCAR settings over MPStaticSet's (ENCUT in eV, ISMEAR, KPOINT-free keys, ...).
        potcar_spec: write POTCAR.spec instead of POTCAR (where no POTCAR library is set up).
        work: the folder that holds each SCF's run folder, ``work/NAME/``.
    """

    command: str = "vasp_std"
    threads: int = 1
    incar: dict = dataclasses.field(default_factory=dict)
    potcar_spec: bool = False
    work: Path | None = None


@dataclass(frozen=True)
class SlabLabelJob:
    """How every slab of a CP2K (or VASP) batch is labelled (travels to the workers pickled).

    Attributes:
        settings: the CP2K recipe (PERIODIC XY + MT Poisson; threads per run), or VASP's.
        fields: the fields in V/Å, each labelled after the zero-field run.
        out: folder for NAME.cube + NAME.json of every SCF, or None.
        keep_candidates: return compact labels (density at zero field, Δn in each field).
        random_points, ts_points: candidates per grid in random and TS (|Δn|) order.
        ts_sigma: TS σ, Å³/e.
        seed: seed of the candidate draws.
    """

    settings: Cp2kSettings | VaspSettings = dataclasses.field(default_factory=Cp2kSettings)
    fields: tuple[tuple[float, float, float], ...] = ()
    out: Path | None = None
    keep_candidates: bool = False
    random_points: int = 1000
    ts_points: int = 1000
    ts_sigma: float = 300.0
    seed: int = 0

    def labels(self) -> list[np.ndarray | None]:
        """None (zero field) and then each field, as arrays in V/Å."""
        return [None, *(np.asarray(field, dtype=float) for field in self.fields)]


def field_tag(field: np.ndarray | None) -> str:
    """A name for a field: "E0", or the axis and value in V/Å such as "Ez-1.00"."""
    if field is None or not np.any(field):
        return "E0"
    parts = [f"E{axis}{value:+.2f}" for axis, value in zip("xyz", field) if value]
    return "_".join(parts)


def slab_is_labelled(stem: str, job: SlabLabelJob, stored: set[str] | None) -> bool:
    """Whether every SCF of slab ``stem`` is in every output the job asks for (``stored``: the store's names)."""
    for field in job.labels():
        name = f"{stem}_{field_tag(field)}"
        if job.out is not None and not (Path(job.out) / f"{name}.cube").exists():
            return False
        if stored is not None and name not in stored:
            return False
    return True


def label_slab(named: tuple[str, ase.Atoms], job: SlabLabelJob) -> list[Candidates]:
    """Run CP2K (or VASP) on one (name, slab) pair in zero field and each field; a cube already in ``out`` is reused.

    Returns the candidates (zero-field density, then Δn per field) when the job keeps them.
    """
    stem, atoms = named
    out = None if job.out is None else Path(job.out)
    zero = None
    candidates = []
    for field in job.labels():
        name = f"{stem}_{field_tag(field)}"
        cube = None if out is None else out / f"{name}.cube"
        if cube is not None and cube.exists():
            grid = read_density(cube)
        else:
            grid, summary = _slab_scf(atoms, field, job.settings, name)
            if cube is not None:
                with atomic_open(out / f"{name}.json") as handle:
                    json.dump({"name": name, **summary}, handle, indent=1)
                write_density(grid, cube)
        if field is None:
            zero = grid
        if job.keep_candidates:
            values = grid if field is None else grid.difference(zero)
            candidates.append(candidates_from_grid(
                name, values, n_random=job.random_points, n_ts=job.ts_points, ts_sigma=job.ts_sigma,
                seed=job.seed, field=field, target="density" if field is None else "response",
                attrs={"code": _code(job.settings), "structure": stem, "electrons_on_grid": values.integral(),
                       **valence_attrs(values)},
            ))
    return candidates


def _code(settings: Cp2kSettings | VaspSettings) -> str:
    return "vasp" if isinstance(settings, VaspSettings) else "cp2k"


def _slab_scf(atoms: ase.Atoms, field: np.ndarray | None, settings: Cp2kSettings | VaspSettings,
              name: str) -> tuple[DensityGrid, dict]:
    """One SCF of a slab in ``field`` (V/Å): its density (e/Å³) and a summary; VASP runs in ``work/name``."""
    if isinstance(settings, VaspSettings):
        from .vasp import run_vasp, write_vasp_inputs

        if settings.work is None:
            raise ValueError("VaspSettings.work: give the folder of the VASP runs")
        folder = write_vasp_inputs(atoms, Path(settings.work) / name, field, dict(settings.incar),
                                   settings.potcar_spec)
        return run_vasp(folder, settings.command, settings.threads), {"code": "vasp", "folder": str(folder)}
    result = run_cp2k(atoms, field=field, settings=settings)
    return result.grid, result.summary()


def label_slabs(
    slabs: Mapping[str, ase.Atoms],
    job: SlabLabelJob,
    store: str | os.PathLike | None = None,
    executor: object | None = None,
    workers: int = 1,
) -> Iterator[str]:
    """Label every slab not yet labelled with CP2K; yields each slab's name as it finishes.

    ``store``, the path of a candidate store, receives each slab's candidates
    as soon as its last SCF finishes. ``workers`` local processes run one slab each (give
    ``job.settings.threads`` = CPU count ÷ workers); ``executor`` (a
    dask.distributed Client or a ``concurrent.futures.Executor``) replaces the pool.
    """
    for stem, _ in _label_batch(
        slabs, label_slab, job, store, slab_is_labelled, executor, workers, candidates_of=lambda found: found
    ):
        yield stem


def unlabelled(structures: Mapping[str, ase.Atoms], job, store: str | os.PathLike | None, is_done) -> dict:
    """The structures some output of ``job`` still lacks (``is_done``: :func:`is_labelled` or :func:`slab_is_labelled`)."""
    stored = stored_names(store)
    return {name: atoms for name, atoms in structures.items() if not is_done(name, job, stored)}


def _label_batch(structures, labeller, job, store, is_done, executor, workers, candidates_of):
    """The loop both batches share: skip what ``is_done``, fan ``labeller`` out, store each result's candidates.

    Yields (name, result) as each structure finishes, after ``candidates_of(result)``
    went into the store at path ``store`` (when given).
    """
    if job.keep_candidates and store is None:
        raise ValueError("keep_candidates needs a store to put them in")
    if job.out is not None:
        Path(job.out).mkdir(parents=True, exist_ok=True)
    todo = list(unlabelled(structures, job, store, is_done).items())
    for (name, _), result in map_unordered(labeller, todo, job, executor=executor, workers=workers):
        found = candidates_of(result)
        if store is not None and found:
            _add_to_store(store, found)
        yield name, result
