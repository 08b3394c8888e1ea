"""``echemml learn CONFIG.yaml [--out DIR] [--resume] [--quiet]``: active learning along MD.

Runs Langevin MD on an echemml energy model, scores a frame every ``selection.every``
steps (LIFS novelty against the training data, or the committee's force deviation),
sends the frames between the trust levels lo and hi to DFT (embedded PySCF, or CP2K;
through a local process pool or a dask cluster), samples their labels, retrains the
models warm-started when enough arrived and continues the MD with them, until the MD
is done or a budget is spent. Prints a line per labelled batch and per retraining;
writes everything to the run folder (record.json, models/iter_NNN/, report.json,
report.png). Stop it with ``kill PID`` (or Ctrl-C) at any moment and continue with
``--resume``: finished DFT jobs are not repeated and no label is lost or duplicated;
``--resume`` accepts settings that differ only in ``budget`` and ``md.steps``.

Settings (every key: :mod:`echemml.protocols.learning_settings`; paths relative to the
current folder), e.g. H5O2+ at 600 K in 0.5 V/Å:

    structure: {file: studies/h5o2/zundel.xyz}     # net charge from its info line, or charge: 1
    models: {energy: h5o2-energy, density: h5o2-density}
    data:                                          # retrained heads; the run adds to its own copies
      energy: [data/h5o2/md_round1.extxyz.gz]      # labelled frames and/or sample sets (.h5)
      density: [runs/h5o2/density_samples.h5]      # sample sets
    md: {temperature: 600, timestep: 0.5, steps: 2000, field: [0, 0, 0.5], seed: 7, friction: 0.01}
    selection: {every: 20, signal: novelty, lo: 0.012, hi: 0.5, max_labels: 4}   # or signal: committee (eV/Å)
    # or lo_quantile: 0.92 (lo rises to that quantile of the last lo_window: 50 frames' signal)
    dft:
      engine: pyscf                                # or cp2k (slabs: zero-field n and Δn in the field)
      pyscf: {spacing: 0.1, margin: 4.0}           # PySCFSettings keys
      workers: 2                                   # local processes; or dask: local | tcp://HOST:8786
    retrain:
      after: 4                                     # new labels per retraining
      epochs: 20
      lr: 3.0e-4
      training: {energy: {energy_weight: 1000}, density: {loss: mae}}
      sampler: {density: {uniform_fraction: 0.5, lifs_threshold: 6.0e-4}}
    budget: {dft_calls: 40, wall_time: 36000, retrainings: 10}   # labelled_fraction: 0.1, failed_in_row: 20
    test: {frames: [data/h5o2/md_heldout_450K.extxyz.gz]}   # and/or cubes: ["heldout/*.cube"], field: [...]

A metal electrode: ``models: {energy: emt, density: au100-density, response: MEMBER.pt}``
(``chgnet`` or ``emt`` drive the MD, untrained), ``dft: {engine: cp2k, cp2k: {...}}`` and
the MD's field: CP2K labels each candidate in zero field and in that field, and the density
and response heads retrain (tests/protocols/test_active_learning_cp2k.py runs it).
"""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from ..protocols.active_learning import ActiveLearning
    from ..protocols.learning_settings import load_settings

    settings = load_settings(args.config)
    learning = ActiveLearning(settings, args.out, resume=args.resume, progress_bar=not args.quiet)
    record = learning.run()
    done = sum(job["status"] == "done" for job in record.jobs)
    print(f"{args.out}: {record.stop_reason}; {len(record.triggers)} frames scored, {done} labelled "
          f"({len(record.jobs) - done} DFT jobs failed), {len(record.retrainings)} retrainings; "
          f"report in {learning.folder.root / 'report.json'}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "learn", help="active learning: MD, novelty, DFT labels, retraining, MD again (resumable)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("config", metavar="CONFIG.yaml", help="the run's settings")
    parser.add_argument("--out", default="learning", metavar="DIR", help="run folder (default ./learning)")
    parser.add_argument("--resume", action="store_true", help="continue the run in DIR where it stopped")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)
