"""The settings of an echemml learn run on a tiny Au(100) slab that EMT moves in −1 V/Å, for the slab engines' tests.

The slab is 1×1 and two layers (two Au atoms, 8 Å of vacuum). The shipped ``au100-density``
scores the frames' novelty; it and one member of ``au100-response`` are retrained, each
starting from one 2×2 three-layer slab of data/au100_response_mt.h5 (200 TS points).
The trust levels make every scored frame a candidate; one DFT call in all.
"""

from __future__ import annotations

from pathlib import Path

import ase.io
import yaml
from ase.build import fcc100

from echemml.cli import main
from echemml.model import committee_member, load_model, save_model

DATA = Path(__file__).resolve().parents[2] / "data"


def sampled(names: str, out: Path) -> Path:
    """A sample set of the named configurations of data/au100_response_mt.h5 (200 TS points each)."""
    assert main(["sample", "--candidates", str(DATA / "au100_response_mt.h5"), "--names", names, "--method", "ts",
                 "--n-points", "200", "--ts-sigma", "300", "--uniform-fraction", "0.5", "--seed", "0",
                 "--workers", "1", "-o", str(out), "--quiet"]) == 0
    return out


def write_slab_settings(folder: Path, dft: dict, **sections) -> Path:
    """learn.yaml in ``folder`` (with the slab, a response member and the sample sets beside it), ``dft`` its
    section; ``sections`` update the others (e.g. ``selection={"signal": "response_committee"}``)."""
    slab = fcc100("Au", size=(1, 1, 2), a=4.08, vacuum=8.0)
    slab.pbc = (True, True, False)
    ase.io.write(folder / "slab.extxyz", slab, format="extxyz")
    response = folder / "response_member1.pt"
    member = committee_member(load_model("au100-response"), 1)
    save_model(member, response, metadata=member.metadata)
    settings = {
        "structure": {"file": str(folder / "slab.extxyz")},
        "models": {"energy": "emt", "density": "au100-density", "response": str(response)},
        "data": {"density": [str(sampled("train_L3_0_E0", folder / "density_samples.h5"))],
                 "response": [str(sampled("train_L3_0_Ez-1.00", folder / "response_samples.h5"))]},
        "md": {"temperature": 300, "timestep": 2.0, "steps": 10, "field": [0, 0, -1], "seed": 3},
        "selection": {"every": 5, "signal": "novelty", "lo": 0.0, "hi": 1.0, "max_labels": 1, "ghost_points": 20},
        "dft": {"random_points": 100, "ts_points": 100, **dft},
        "retrain": {"after": 1, "epochs": 1, "lr": 1e-5},
        "budget": {"dft_calls": 1},
    }
    for name, keys in sections.items():
        settings[name] = {**settings[name], **keys}
    path = folder / "learn.yaml"
    path.write_text(yaml.safe_dump(settings))
    return path
