#!/usr/bin/env bash
# The whole echemml pipeline on the embedded PySCF engine, small enough for a laptop:
# label a handful of small QM9 molecules, sample them with TS+LIFS, train briefly,
# then predict a held-out molecule's whole grid and report its NMAE with a parity plot.
#
#   bash examples/qm9_pipeline.sh [RUN_DIR]        # default ./qm9_pipeline; resumable
#
# Steps (each resumes if the run is interrupted):
#   1. PySCF GTH-PBE densities of 16 QM9 molecules (indices ≤ 2000, small ones) kept as
#      compact labels, and of one held-out molecule (indices 2001–3000) as a full cube;
#   2. TS+LIFS sampling with a freshly initialised model's features;
#   3. training with the Table-1 QM9 sizes for a 4-minute budget;
#   4. whole-grid evaluation (NMAE, RMSE, R², electrons) with a parity plot, and the
#      predicted density of the held-out molecule as a cube file.
set -euo pipefail
RUN=${1:-qm9_pipeline}
mkdir -p "$RUN"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

echemml dft pyscf --qm9 1-2000 --qm9-sample 16 --seed 3 --spacing 0.12 --no-forces \
    --candidates "$RUN/labels.h5"
echemml dft pyscf --qm9 2001-3000 --qm9-sample 1 --seed 4 --spacing 0.12 --no-forces --out "$RUN/heldout"
echemml sample --candidates "$RUN/labels.h5" --method ts+lifs --ts-points 1000 --lifs-threshold 0.02 \
    --workers 1 -o "$RUN/samples.h5"
if [ ! -f "$RUN/training/model.pt" ]; then
    echemml train "$RUN/samples.h5" --out "$RUN/training" --time-budget 240 --lr 5e-3 --patience 20 \
        --batch-size 4 --threads 1
fi
heldout=$(ls "$RUN"/heldout/qm9_*.cube | head -n 1)
echemml evaluate "$RUN/training/model.pt" "$heldout" --plot "$RUN/parity.png"
echemml predict "$RUN/training/model.pt" "$heldout" -o "$RUN/predicted.cube"
echo "parity plot: $RUN/parity.png   learning curve: $RUN/training/learning_curve.png"
