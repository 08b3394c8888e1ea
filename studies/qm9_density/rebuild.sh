#!/usr/bin/env bash
# Rebuild the shipped qm9-density model from the committed labels and evaluate it (~2.5 h on 2 cores).
#
#   bash studies/qm9_density/rebuild.sh          # from the repository root; writes under runs/
#
# 1. TS+LIFS sampling (threshold 6e-4) of all 1800 molecules of data/qm9_train_candidates.h5 (~5 min);
# 2. training with data/qm9/train_density.yaml (cosine schedule, 2-hour budget);
# 3. the 50 held-out test molecules (QM9 100001–120000) as whole PySCF grids (~20 min);
# 4. studies/qm9_density/report.py: whole-grid NMAE and electron counts of every test
#    molecule, Fig. 2 parity plots and the Fig. 4 line scan, into studies/qm9_density/.
# Every step resumes where it stopped: an interrupted training continues from its checkpoint
# (with a budget of its own), and it is skipped once its model.pt exists.
set -euo pipefail
RUN=runs/qm9_density
mkdir -p "$RUN"

if [ ! -f "$RUN/samples.h5" ]; then
    echemml sample --candidates data/qm9_train_candidates.h5 --method ts+lifs --ts-points 1000 \
        --uniform-fraction 0.3 --lifs-threshold 6e-4 --species 1 6 7 8 9 --workers 2 -o "$RUN/samples.h5"
fi
if [ ! -f "$RUN/train/model.pt" ]; then  # model.pt is written when training ends
    resume=()
    [ -f "$RUN/train/checkpoint.pt" ] && resume=(--resume)
    echemml train data/qm9/train_density.yaml --out "$RUN/train" "${resume[@]}"
fi

OMP_NUM_THREADS=1 echemml dft pyscf --qm9 100001-120000 --qm9-sample 50 --seed 1 --no-forces \
    --out runs/qm9_test --workers 2
python studies/qm9_density/report.py --model "$RUN/train/model.pt" --samples "$RUN/samples.h5" \
    --test-dir runs/qm9_test --out studies/qm9_density
