"""Full-grid prediction throughput of the Table-1 model sizes, beside PySCF's time.

Run from the repository root:

    python benchmarks/predict_throughput.py [--output benchmarks/results/predict_throughput.json]

Cases (2 CPU threads, in process, float32):

* QM9 sizes (readout 32×32, orbital NN 16×16, rc 4 Å, L 2, T 2, K 8) on QM9
  molecule 1340 (CCN1CC1(C)C, 20 atoms) on a 0.1 Å grid with 4 Å margin;
* Au-response sizes (128×128, 64×64, rc 6 Å, L 2, T 6, K 12) on a 2×2×3 Au(100)
  slab (8 Å vacuum each side) on its 64×64×216 grid, density and response heads;
* the whole ``echemml predict`` process for the QM9 case (start-up, cube output);
* PySCF (gth-dzvp, gth-pbe, PBE, grids.level 2) on the same molecule: SCF, then
  the density on the same grid.

Weights are random (throughput does not depend on their values). The grid
points per second include the neighbour lists and the once-per-structure
message passing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_name

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))  # measure this checkout

import numpy as np  # noqa: E402
import torch  # noqa: E402
from ase import Atoms  # noqa: E402
from ase.build import fcc100  # noqa: E402
from ase.io import write  # noqa: E402

from echemml.grid import DensityGrid, uniform_grid  # noqa: E402
from echemml.model import build_model, predict_grid, preset_config, save_model  # noqa: E402
from echemml.qm9 import load_qm9  # noqa: E402

THREADS = 2
QM9_INDEX = 1340
SPACING = 0.1  # Å
MARGIN = 4.0  # Å


def random_model(preset: str, species, head: str, seed: int = 0):
    """A model of the preset's sizes with random, well-scaled weights."""
    model = build_model(preset_config(preset, species), head)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("weight") and parameter.ndim == 2:
                # orbital-coefficient updates kept small so that six iterations stay bounded
                scale = 0.05 if "orbital_nets" in name and ".output." in name else 1.0
                parameter.copy_(scale * torch.randn(parameter.shape, generator=generator) / parameter.shape[1] ** 0.5)
            elif "field_coefficients" in name:
                parameter.copy_(0.5 * torch.randn(parameter.shape, generator=generator))
    return model.eval()


def time_prediction(model, grid: DensityGrid, field, repeats: int = 2) -> dict:
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = predict_grid(model, grid, field=field)
        seconds.append(time.perf_counter() - start)
    best = min(seconds)
    return {
        "grid_shape": list(grid.shape),
        "npoints": grid.npoints,
        "seconds": [round(s, 3) for s in seconds],
        "points_per_second": round(grid.npoints / best),
        "integral_e": round(result.integral(), 4),
    }


def time_cli(model, atoms: Atoms) -> dict:
    """Wall time of the whole `echemml predict` process on the molecule (start-up and cube included)."""
    with tempfile.TemporaryDirectory() as folder:
        model_file = Path(folder) / "qm9.pt"
        save_model(model, model_file)
        write(Path(folder) / "molecule.xyz", atoms)
        command = [
            sys.executable, "-c", "import sys; from echemml.cli import main; sys.exit(main())",
            "predict", str(model_file), str(Path(folder) / "molecule.xyz"), "-o", str(Path(folder) / "out.cube"),
            "--spacing", str(SPACING), "--margin", str(MARGIN),
        ]
        environment = dict(os.environ, PYTHONPATH=str(REPOSITORY), OMP_NUM_THREADS=str(THREADS))
        start = time.perf_counter()
        done = subprocess.run(command, env=environment, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-500:]}
    return {"command": "echemml predict MODEL molecule.xyz -o out.cube --spacing 0.1 --margin 4", "seconds": round(seconds, 2)}


def time_pyscf(atoms: Atoms) -> dict:
    """echemml's embedded PySCF engine on the same molecule and grid: SCF, then the density."""
    from echemml.dft.pyscf import PySCFSettings, run_pyscf

    result = run_pyscf(atoms, settings=PySCFSettings(spacing=SPACING, margin=MARGIN), compute_forces=False)
    return {
        "recipe": "gth-dzvp, gth-pbe, PBE, grids.level 2; density by numint.eval_rho in chunks of 1e5 points",
        "converged": result.converged,
        "scf_seconds": round(result.timings["scf"], 2),
        "grid_seconds": round(result.timings["grid"], 2),
        "total_seconds": round(result.timings["scf"] + result.timings["grid"], 2),
        "grid_electrons": round(result.grid.integral(), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(REPOSITORY / "benchmarks/results/predict_throughput.json"))
    parser.add_argument("--skip-pyscf", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(THREADS)
    load_at_start = list(os.getloadavg())  # other processes on the machine slow every figure

    atoms = load_qm9([QM9_INDEX])[QM9_INDEX]
    smiles = atoms.info["smiles"]
    molecule_grid = uniform_grid(atoms, SPACING, MARGIN, dtype=np.float32)
    qm9_model = random_model("qm9", [1, 6, 7, 8, 9], "density")
    qm9 = {"molecule": f"QM9 {QM9_INDEX} {smiles}", "natoms": len(atoms), "preset": "qm9", "head": "density"}
    qm9.update(time_prediction(qm9_model, molecule_grid, field=None))

    slab = fcc100("Au", (2, 2, 3), vacuum=8.0)
    slab_grid = DensityGrid(slab, np.zeros((64, 64, 216), dtype=np.float32))
    gold = {}
    for head in ("density", "response"):
        model = random_model("au-response", [79], head)
        case = {"structure": "Au(100) 2x2x3, vacuum 8 Å", "natoms": len(slab), "preset": "au-response", "head": head}
        case.update(time_prediction(model, slab_grid, field=[0.0, 0.0, -1.0]))
        gold[head] = case

    results = {
        "command": "python benchmarks/predict_throughput.py",
        "machine": {
            "cpu": cpu_name(),
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "load_average_at_start": load_at_start,
            "load_average_at_end": list(os.getloadavg()),
        },
        "dtype": "float32",
        "qm9": qm9,
        "au_slab": gold,
        "echemml_predict_process_qm9": time_cli(qm9_model, atoms),
        "target_points_per_second_qm9": 1_000_000,
    }
    if not args.skip_pyscf:
        results["pyscf_qm9"] = time_pyscf(atoms)
    text = json.dumps(results, indent=2, ensure_ascii=False)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
