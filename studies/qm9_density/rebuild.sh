#!/usr/bin/env bash
# Rebuild the shipped qm9-density model from the committed labels and evaluate it (~4 h on 2 cores).
#
#   bash studies/qm9_density/rebuild.sh          # from the repository root; writes under runs/
#
# 1. stage 1: TS+LIFS sampling (threshold 1e-3) of the 1000 molecules of
#    data/qm9/stage1_molecules.txt and training with data/qm9/train_density.yaml (100-minute budget);
# 2. stage 2: TS+LIFS sampling (threshold 6e-4) of the 1670 molecules of
#    data/qm9/stage2_molecules.txt (the store holds more since) and training on from the stage-1 model with
#    data/qm9/finetune_density.yaml (~30 min: it stops when the plateau halvings take the
#    learning rate below 1e-6);
# 3. the 50 held-out test molecules (QM9 100001–120000) as whole PySCF grids (~20 min);
# 4. studies/qm9_density/report.py: whole-grid NMAE and electron counts of every test
#    molecule, Fig. 2 parity plots and the Fig. 4 line scan, into studies/qm9_density/.
# Every step resumes where it stopped: an interrupted training continues from its checkpoint
# (with a budget of its own), and a training is skipped once its model.pt exists.
set -euo pipefail
RUN=runs/qm9_density
mkdir -p "$RUN"

sample() {  # sample MOLECULE_LIST LIFS_THRESHOLD OUT: TS+LIFS points of the listed molecules
    local names
    mapfile -t names < <(grep -v '^#' "$1")
    echemml sample --candidates data/qm9_train_candidates.h5 --names "${names[@]}" --method ts+lifs \
        --ts-points 1000 --uniform-fraction 0.3 --lifs-threshold "$2" --species 1 6 7 8 9 --workers 2 -o "$3"
}

train() {  # train CONFIG OUT [extra echemml train arguments]
    local config=$1 out=$2
    shift 2
    [ -f "$out/model.pt" ] && return 0  # model.pt is written when training ends
    local resume=()
    [ -f "$out/checkpoint.pt" ] && resume=(--resume)
    echemml train "$config" --out "$out" "$@" "${resume[@]}"
}

sample data/qm9/stage1_molecules.txt 1e-3 "$RUN/samples.h5"
train data/qm9/train_density.yaml "$RUN/train"

sample data/qm9/stage2_molecules.txt 6e-4 "$RUN/samples_all.h5"
train data/qm9/finetune_density.yaml "$RUN/finetune" --init "$RUN/train/model.pt"

OMP_NUM_THREADS=1 echemml dft pyscf --qm9 100001-120000 --qm9-sample 50 --seed 1 --no-forces \
    --out runs/qm9_test --workers 2
python studies/qm9_density/report.py --model "$RUN/finetune/model.pt" --samples "$RUN/samples_all.h5" \
    --test-dir runs/qm9_test --out studies/qm9_density
