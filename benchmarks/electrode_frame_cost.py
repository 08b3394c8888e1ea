"""Benchmark: what an electrode frame costs through EChemCalculator, and an MD run against the CP2K it replaces.

A 2×2 Au(100) slab of 5 layers (studies/au100_md/au100_2x2_L5.xyz) with the shipped
au100-response loaded (start-up excluded), torch on ``--threads`` threads; every timed
frame is a new configuration (the slab rattled by 0.05 Å), so nothing is cached:

* **charge transfer + ESP drop** per frame at −1 V/Å on grids of 0.3 and 0.2 Å
  (goal ≤ 0.5 s at 0.3 Å): the median over ``--frames`` frames;
* **a constant-potential frame** (``potential_drop`` = the drop at −1 V/Å: the field
  is solved, then the transfer read) against a fixed-field frame on the same grid
  (goal ≤ 2×);
* **CHGNet's forces** on the slab, for scale;
* **the whole run**: ``echemml md`` for ``--md-steps`` steps of 2 fs with CHGNet and
  the transfer and ESP drop every 10 steps at 0.2 Å, timed as a process (start-up
  included), against CP2K (the project's recipe, ``--cp2k-threads``) on one frame of
  it, in zero field and at −1 V/Å: what labelling every recorded frame would cost
  (both SCFs), and what ab initio MD in the field would cost (one SCF per step, no
  wavefunction extrapolation counted).

    python benchmarks/electrode_frame_cost.py --output benchmarks/results/electrode_frame_cost.json

``--only electrode_frame`` measures the frames again and keeps the other sections of
``--output`` (``section_commands`` says which command measured each).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ase.io
import numpy as np
import torch

from echemml.calculators import EChemCalculator, chgnet_calculator
from echemml.calculators.recorder import read_record
from echemml.dft.cp2k.inputs import Cp2kSettings
from echemml.dft.cp2k.run import run_cp2k
from echemml.io.files import atomic_open
from echemml.model import load_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_name  # noqa: E402

SLAB = Path(__file__).resolve().parents[1] / "studies" / "au100_md" / "au100_2x2_L5.xyz"
FIELD = (0.0, 0.0, -1.0)


def timed_frames(slab, calculator: EChemCalculator, properties: tuple[str, ...], frames: int,
                 first_seed: int = 0) -> list[float]:
    """Seconds per frame to get ``properties`` of ``frames`` rattled copies of ``slab`` (a new one each time)."""
    seconds = []
    for seed in range(first_seed, first_seed + frames):
        atoms = slab.copy()
        atoms.rattle(0.05, seed=seed)
        atoms.calc = calculator
        start = time.perf_counter()
        for name in properties:
            calculator.get_property(name, atoms)
        seconds.append(time.perf_counter() - start)
    return seconds


def summary(seconds: list[float]) -> dict:
    return {"median_s": statistics.median(seconds), "min_s": min(seconds), "max_s": max(seconds), "n": len(seconds)}


def timed_md(steps: int, folder: Path) -> tuple[float, int]:
    """Seconds of an ``echemml md`` process on the slab (CHGNet, au100-response at −1 V/Å every 10 steps)
    and the frames it recorded."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "echemml", "md", str(SLAB), "--potential", "chgnet", "--response-model",
                    "au100-response", "--field", "0", "0", "-1", "--steps", str(steps), "--timestep", "2",
                    "--temperature", "300", "--every", "10", "--spacing", "0.2", "--record",
                    "charge_transfer,esp_drop", "--seed", "1", "--quiet", "-o", str(folder)],
                   check=True, capture_output=True)
    seconds = time.perf_counter() - start
    return seconds, len(read_record(folder / "record.h5")["step"])


def timed_cp2k(atoms, threads: int) -> dict:
    """Seconds CP2K takes for one frame in zero field and at −1 V/Å."""
    settings = Cp2kSettings(threads=threads, forces=False)
    seconds = {}
    for name, field in (("zero_field_s", None), ("field_s", np.array(FIELD))):
        start = time.perf_counter()
        run_cp2k(atoms, field=field, settings=settings)
        seconds[name] = time.perf_counter() - start
    return seconds


def electrode_frames(slab, model, frames: int) -> dict:
    """Fixed-field and constant-potential frame costs on grids of 0.3 and 0.2 Å."""
    electrode = ("charge_transfer", "esp_drop")
    result = {}
    for spacing in (0.3, 0.2):
        fixed = EChemCalculator(response_model=model, field=FIELD, spacing=spacing)
        timed_frames(slab, fixed, electrode, 1, first_seed=10_000)  # warm-up (numba compiles once) on a frame never timed
        fixed_seconds = timed_frames(slab, fixed, electrode, frames)
        probe = slab.copy()
        probe.calc = fixed
        drop = float(fixed.get_property("esp_drop", probe))
        held = EChemCalculator(response_model=model, potential_drop=drop, spacing=spacing)
        held_seconds = timed_frames(slab, held, ("field", *electrode), frames)
        result[f"{spacing} A"] = {
            "fixed_field": summary(fixed_seconds),
            "constant_potential": {**summary(held_seconds), "potential_drop_V": drop},
            "constant_potential_over_fixed_field": statistics.median(held_seconds) / statistics.median(fixed_seconds),
        }
    return result


def chgnet_forces(slab, frames: int) -> dict:
    """CHGNet's forces on rattled copies of the slab (the first call, which loads it, not counted)."""
    chgnet = chgnet_calculator()
    seconds = []
    for seed in range(frames + 1):
        atoms = slab.copy()
        atoms.rattle(0.05, seed=100 + seed)
        start = time.perf_counter()
        chgnet.get_forces(atoms)
        seconds.append(time.perf_counter() - start)
    return summary(seconds[1:])


def whole_run(slab, md_steps: int, cp2k_threads: int) -> dict:
    """``echemml md`` as a process against CP2K on one frame, both SCFs."""
    with tempfile.TemporaryDirectory() as folder:
        md_seconds, frames = timed_md(md_steps, Path(folder) / "run")
    cp2k = timed_cp2k(slab, cp2k_threads)
    per_frame = cp2k["zero_field_s"] + cp2k["field_s"]
    return {
        "md_steps": md_steps, "md_ps": md_steps * 2 / 1000.0, "recorded_frames": frames,
        "echemml_md_s": md_seconds,
        "cp2k_one_frame": {**cp2k, "threads": cp2k_threads},
        "cp2k_every_recorded_frame_s": per_frame * frames,
        "cp2k_aimd_every_step_s": cp2k["field_s"] * md_steps,
        "speedup_over_labelling_the_frames": per_frame * frames / md_seconds,
        "speedup_over_aimd": cp2k["field_s"] * md_steps / md_seconds,
    }


SECTIONS = ("electrode_frame", "chgnet_forces", "whole_run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--response-model", default="au100-response")
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--md-steps", type=int, default=500, help="steps of the timed MD run (2 fs each)")
    parser.add_argument("--cp2k-threads", type=int, default=2, help="OpenMP threads of the timed CP2K runs")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS),
                        help="measure these sections only; the others are kept from --output (with the command "
                             "that measured them, in section_commands)")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    slab = ase.io.read(SLAB)
    command = "python benchmarks/electrode_frame_cost.py " + " ".join(sys.argv[1:])
    kept = json.loads(args.output.read_text()) if args.output and args.output.exists() else {}
    section_commands = kept.get("section_commands") or {name: kept["command"] for name in SECTIONS if name in kept}
    result: dict = {
        "command": command,
        "machine": {"cpu": cpu_name(), "torch_threads": args.threads},
        "slab": f"{SLAB.relative_to(SLAB.parents[2])} (Au{len(slab)}, 2×2 Au(100), 5 layers)",
        "field_V_per_A": list(FIELD),
        **{name: kept[name] for name in SECTIONS if name in kept and name not in args.only},
    }
    if "electrode_frame" in args.only:
        result["electrode_frame"] = electrode_frames(slab, load_model(args.response_model), args.frames)
    if "chgnet_forces" in args.only:
        result["chgnet_forces"] = chgnet_forces(slab, args.frames)
    if "whole_run" in args.only:
        result["whole_run"] = whole_run(slab, args.md_steps, args.cp2k_threads)
    result["section_commands"] = {name: command if name in args.only else section_commands.get(name)
                                  for name in SECTIONS if name in result}
    text = json.dumps(result, indent=1)
    print(text)
    if args.output:
        with atomic_open(args.output) as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
