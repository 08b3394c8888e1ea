"""``echemml md STRUCTURE --potential MODEL --steps N --temperature T -o RUN``: Langevin MD with EChemCalculator.

Runs NVT molecular dynamics (ASE's Langevin integrator, the centre of mass held
fixed) on an echemml energy model (file or shipped name), CHGNet's universal potential
(``--potential chgnet``, the ``chgnet`` extra) or ASE's EMT, optionally
with a density model for per-frame densities and Bader charges and, for a slab, a
response model for its charge transfer and ESP drop, in a uniform field or at a
fixed ESP drop (``--potential-drop``: the field is found every step). Every ``--every`` steps it writes a frame to
``RUN/md.traj`` (ASE trajectory, positions and momenta) and the ``--record``
properties to ``RUN/record.h5`` (:class:`echemml.calculators.recorder.PropertyRecorder`).
Run again with the same RUN to continue from the last frame written up to ``--steps``
in all; the recorded series continues without a repeated frame. A net charge comes
from the structure's ``info["charge"]`` or ``--charge``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import EchemmlError, InputFileError
from .predict import add_threads_option, positive_int, use_threads

TRAJECTORY = "md.traj"
RECORD = "record.h5"
STEP_KEY = "md_step"  # each trajectory frame's MD step, in its info


def _start(args: argparse.Namespace, trajectory: Path):
    """The atoms to start from and the steps already done: the last frame of a previous run, or STRUCTURE
    with Maxwell–Boltzmann velocities at ``--temperature``."""
    import ase.io
    import numpy as np
    from ase.md.velocitydistribution import Stationary, ZeroRotation, thermalize_momenta

    if trajectory.exists() and trajectory.stat().st_size > 0:
        atoms = ase.io.read(trajectory, index=-1)
        return atoms, int(atoms.info[STEP_KEY])
    try:
        atoms = ase.io.read(args.structure)
    except FileNotFoundError:
        raise InputFileError(args.structure, "no such file") from None
    except Exception as exc:  # ase raises many kinds for unreadable files
        raise InputFileError(args.structure, f"cannot read a structure ({type(exc).__name__}: {exc})") from None
    thermalize_momenta(atoms, args.temperature, rng=np.random.default_rng(args.seed))
    Stationary(atoms)
    if not atoms.pbc.any():
        ZeroRotation(atoms)
    return atoms, 0


def run(args: argparse.Namespace) -> int:
    import numpy as np
    from ase import units
    from ase.constraints import FixCom
    from ase.io import Trajectory
    from ase.md.langevin import Langevin
    from tqdm import tqdm

    from ..calculators import EChemCalculator
    from ..calculators.universal import universal_potential
    from ..calculators.recorder import PropertyRecorder

    use_threads(args.threads)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    trajectory_path = out / TRAJECTORY
    atoms, done = _start(args, trajectory_path)
    if args.charge is not None:
        atoms.info["charge"] = args.charge
    if done >= args.steps:
        print(f"{out}: {done} of {args.steps} steps already done")
        return 0
    if args.potential_drop is not None and args.field is not None:
        raise EchemmlError("give --field or --potential-drop, not both")
    potential = universal_potential(args.potential) or args.potential
    calculator = EChemCalculator(potential=potential, density_model=args.density_model,
                                 response_model=args.response_model, field=tuple(args.field or (0.0, 0.0, 0.0)),
                                 potential_drop=args.potential_drop, spacing=args.spacing)
    properties = [name.strip() for name in args.record.split(",") if name.strip()]
    unknown = [name for name in properties if name not in calculator.implemented_properties]
    if unknown:
        raise EchemmlError(f"--record {','.join(unknown)}: not given by these models "
                           f"(they give {', '.join(calculator.implemented_properties)})")
    atoms.calc = calculator
    atoms.set_constraint(FixCom())  # an ion in a field would otherwise drift away under Qε
    dynamics = Langevin(atoms, args.timestep * units.fs, temperature_K=args.temperature,
                        friction=args.friction / units.fs, fixcm=False, rng=np.random.default_rng([args.seed, done]))
    dynamics.nsteps = done
    recorder = PropertyRecorder(dynamics, out / RECORD, properties)
    with Trajectory(trajectory_path, "a") as trajectory, tqdm(
        total=args.steps, initial=done, unit="step", disable=args.quiet, dynamic_ncols=True
    ) as bar:
        def write_frame() -> None:
            if dynamics.nsteps > done or done == 0:  # a resumed run's first frame is already written
                recorder()
                atoms.info[STEP_KEY] = dynamics.nsteps
                trajectory.write(atoms)  # last: a frame in the trajectory has its record

        dynamics.attach(write_frame, interval=args.every)
        dynamics.attach(lambda: bar.update(1) if dynamics.nsteps > done else None, interval=1)
        dynamics.run(args.steps - done)
    print(f"{out}: {args.steps} steps; frames in {trajectory_path}, {', '.join(['step', 'time', *properties])} "
          f"in {out / RECORD}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "md", help="Langevin MD with an energy model, recording densities and charges per frame",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("structure", metavar="STRUCTURE", help="starting structure (any file ase reads)")
    parser.add_argument("--potential", required=True, metavar="MODEL",
                        help="echemml energy model (file or shipped name), chgnet for CHGNet's universal potential "
                        "(metals; the chgnet extra), or emt for ASE's EMT")
    parser.add_argument("--density-model", metavar="MODEL", help="density model for density, electrons, charges, dipole")
    parser.add_argument("--response-model", metavar="MODEL",
                        help="response model for a slab's charge_transfer, face_charges, esp_drop, esp_slope, "
                        "surface_charge")
    parser.add_argument("--field", type=float, nargs=3, metavar=("EX", "EY", "EZ"), help="uniform field, V/Å")
    parser.add_argument("--potential-drop", type=float, metavar="U",
                        help="hold a slab at this ESP drop, V, instead of a field: the field is found every step "
                        "(needs --response-model; record it with --record field)")
    parser.add_argument("--charge", type=int, help="net charge, e (default: the structure's info, else 0)")
    parser.add_argument("--steps", type=positive_int, required=True, help="MD steps in all (a rerun continues)")
    parser.add_argument("--temperature", type=float, required=True, metavar="K", help="thermostat temperature, K")
    parser.add_argument("--timestep", type=float, default=0.5, metavar="FS", help="time step, fs (default 0.5)")
    parser.add_argument("--friction", type=float, default=0.01, metavar="PER_FS",
                        help="Langevin friction, 1/fs (default 0.01)")
    parser.add_argument("--record", default="energy", metavar="P1,P2",
                        help="properties recorded per frame, e.g. energy,forces,electrons,charges,dipole, "
                        "charge_transfer,esp_drop,field")
    parser.add_argument("--every", type=positive_int, default=10, metavar="K",
                        help="write a frame and record every K steps (default 10)")
    parser.add_argument("--spacing", type=float, default=0.1, metavar="H", help="density grid spacing, Å")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial velocities and the thermostat")
    parser.add_argument("-o", "--output", required=True, metavar="RUN", help="run folder (resumable)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_threads_option(parser)
    parser.set_defaults(func=run)
