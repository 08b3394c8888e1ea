#!/usr/bin/env bash
# Rebuild the shipped qm9-density model from the committed labels and evaluate it (~2.5 h on 2 cores).
#
#   bash studies/qm9_density/rebuild.sh          # from the repository root; writes under runs/
#
# 1. TS+LIFS sampling of every labelled training molecule in data/qm9_train_candidates.h5
#    (the two commands of data/qm9/train_density.yaml; ~5 min);
# 2. training with that configuration (100-minute budget); an interrupted training continues
#    from its checkpoint when the script runs again;
# 3. the 50 held-out test molecules (QM9 100001–120000) as whole PySCF grids (~20 min);
# 4. studies/qm9_density/report.py: whole-grid NMAE and electron counts of every test
#    molecule, Fig. 2 parity plots and the Fig. 4 line scan, into studies/qm9_density/.
# Every step resumes where it stopped; training is skipped once its model exists.
set -euo pipefail
RUN=runs/qm9_density
mkdir -p "$RUN"

echemml sample --candidates data/qm9_train_candidates.h5 --method ts+lifs --ts-points 1000 \
    --uniform-fraction 0.3 --lifs-threshold 1e-3 --species 1 6 7 8 9 --workers 2 -o "$RUN/samples.h5"
if [ ! -f "$RUN/train/model.pt" ]; then  # model.pt is written when training ends
    resume=()
    [ -f "$RUN/train/checkpoint.pt" ] && resume=(--resume)  # a resumed run gets a budget of its own
    echemml train data/qm9/train_density.yaml --out "$RUN/train" "${resume[@]}"
fi
OMP_NUM_THREADS=1 echemml dft pyscf --qm9 100001-120000 --qm9-sample 50 --seed 1 --no-forces \
    --out runs/qm9_test --workers 2
python studies/qm9_density/report.py --model "$RUN/train/model.pt" --samples "$RUN/samples.h5" \
    --test-dir runs/qm9_test --out studies/qm9_density
