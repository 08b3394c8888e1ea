"""A constant-potential ``echemml md`` run against the fixed-field run it mirrors (same structure, potential and seed).

    python studies/au100_md/compare_runs.py runs/au100_md/potential_drop runs/au100_md/fixed_field \\
        --target -11.17 --output studies/au100_md/potential_drop_2x2.json

The potential moves the atoms the same way in both runs (it does not see the field),
so the frames pair up: the JSON gives how far the held run's drop strays from
``--target`` (V) at any frame, the field it needed (V/Å), and the induced charge of the
two runs, as recorded and per unit field (e per V/Å).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from echemml.calculators.recorder import read_record
from echemml.io.files import atomic_open


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("held", type=Path, help="run made with --potential-drop (recording field, esp_drop, charge_transfer)")
    parser.add_argument("fixed", type=Path, help="run made with --field (recording charge_transfer)")
    parser.add_argument("--target", type=float, required=True, help="the held run's --potential-drop, V")
    parser.add_argument("--fixed-field", type=float, default=-1.0, help="the fixed run's field along z, V/Å")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()

    held, fixed = read_record(args.held / "record.h5"), read_record(args.fixed / "record.h5")
    if not np.array_equal(held["step"], fixed["step"]):
        sys.exit("the two runs recorded different steps")
    drop_error = 100.0 * (np.asarray(held["esp_drop"]) / args.target - 1.0)
    field = np.asarray(held["field"])[:, 2]
    per_field_held = np.asarray(held["charge_transfer"]) / np.abs(field)
    per_field_fixed = np.asarray(fixed["charge_transfer"]) / abs(args.fixed_field)
    result = {
        "command": "python studies/au100_md/compare_runs.py " + " ".join(sys.argv[1:]),
        "frames": len(held["step"]),
        "target_drop_V": args.target,
        "drop_max_abs_error_percent": float(np.abs(drop_error).max()),
        "field_V_per_A": {"mean": float(field.mean()), "min": float(field.min()), "max": float(field.max())},
        "charge_transfer_mean_e": {"held": float(np.mean(held["charge_transfer"])),
                                   "fixed": float(np.mean(fixed["charge_transfer"]))},
        "transfer_per_field_max_abs_difference_percent":
            float(100.0 * np.abs(per_field_held / per_field_fixed - 1.0).max()),
    }
    if "charge_transfer_std" in held:
        result["charge_transfer_std_e"] = {"first_tenth": float(np.mean(held["charge_transfer_std"][: len(field) // 10])),
                                           "last_tenth": float(np.mean(held["charge_transfer_std"][-len(field) // 10:]))}
    with atomic_open(args.output) as handle:
        json.dump(result, handle, indent=1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
