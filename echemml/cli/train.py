"""``echemml train CONFIG_OR_SAMPLES [--out DIR] [--resume] ...``: train a density or response model.

CONFIG_OR_SAMPLES is a YAML configuration (.yaml/.yml, naming its sample set)
or a sample set (.h5) trained with the defaults of Table 1 (QM9 column) or
``--config``. Options override the configuration. Launched by
``torchrun --nproc_per_node N -m echemml train ...`` it trains in N processes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import EchemmlError


def build_config(args: argparse.Namespace):
    """The configuration from the positional argument, --config and the overriding options."""
    from ..training import load_config

    source = Path(args.source)
    is_yaml = source.suffix.lower() in (".yaml", ".yml")
    if is_yaml and args.config:
        raise EchemmlError("give either a configuration file or a sample set with --config, not two configurations")
    config = load_config(source if is_yaml else args.config)
    if not is_yaml:
        config.samples = str(source)
    if config.samples is None:
        raise EchemmlError(f"{source}: the configuration names no sample set (key 'samples')")
    if args.head:
        config.head = args.head
    overrides = {
        "max_epochs": args.epochs, "time_budget": args.time_budget, "batch_size": args.batch_size,
        "lr": args.lr, "schedule": args.schedule, "loss": args.loss, "patience": args.patience, "seed": args.seed, "ema_decay": args.ema,
        "dtype": "float64" if args.float64 else None, "threads": args.threads, "device": args.device,
    }
    for key, value in overrides.items():
        if value is not None:
            setattr(config.training, key, value)
    config.validate()
    return config


def _init_model(args: argparse.Namespace):
    """The model --init names (member --member of a committee), or None for fresh weights."""
    from ..model import committee_member, load_model

    if args.member is not None and not args.init:
        raise EchemmlError("--member picks a member of the --init committee: give --init MODEL too")
    if not args.init:
        return None
    model = load_model(args.init)
    return committee_member(model, args.member, args.init) if args.member is not None else model


def run(args: argparse.Namespace) -> int:
    from ..model import model_summary
    from ..training import Trainer, TrainingInterrupted

    if args.resume:
        samples = None if Path(args.source).suffix.lower() in (".yaml", ".yml") else args.source
        trainer = Trainer.resume(args.out, samples, args.epochs, args.time_budget, progress_bar=not args.quiet)
    else:
        config = build_config(args)
        init = _init_model(args)
        trainer = Trainer(config, config.samples, args.out, init, progress_bar=not args.quiet)
    if trainer.context.is_main:
        print(model_summary(trainer.model))
        data = trainer.data_summary
        what = "force components" if trainer.model.head == "energy" else "points"
        print(
            f"data       {data['configurations']} configurations, {data['train_points']} training and "
            f"{data['validation_points']} validation {what}, {trainer.context.world_size} process(es)"
        )
    try:
        progress = trainer.train()
    except TrainingInterrupted as interrupt:
        if trainer.context.is_main:
            print(f"echemml: {interrupt}")
        return 130
    if trainer.context.is_main:
        best = trainer.metadata()
        print(f"stopped    after epoch {progress.epoch}: {progress.stop_reason}")
        if best["best_val_rmse"] is not None:
            unit = "eV/Å (forces)" if trainer.model.head == "energy" else "e/Å³"
            print(f"best       validation loss {best['best_val_loss']:.4e}, RMSE {best['best_val_rmse']:.4e} {unit}")
        print(f"wrote      {trainer.model_path} and the log in {trainer.out_dir}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a density or response model on a sample set",
        description="Train a FIREANN density or response model on a sample set with the paper's "
        "schedule (AdamW, lr 1e-3 halved after `patience` epochs without a better validation "
        "loss, stop below 1e-6). Writes checkpoint.pt, model.pt, log.csv and learning_curve.png "
        "to --out. Under torchrun it trains in several processes (DDP).",
    )
    parser.add_argument("source", metavar="CONFIG_OR_SAMPLES", help="YAML configuration, or a sample set (.h5) or labelled frames (.extxyz, energy head)")
    parser.add_argument("--config", metavar="YAML", help="configuration for a sample set given as CONFIG_OR_SAMPLES")
    parser.add_argument("--out", default="training", metavar="DIR", help="run folder (default ./training)")
    parser.add_argument("--resume", action="store_true", help="continue exactly from DIR/checkpoint.pt")
    parser.add_argument("--init", metavar="MODEL", help="warm start from a model file (keeps its sizes and scaling)")
    parser.add_argument("--member", type=int, metavar="K",
                        help="with --init COMMITTEE: warm start from its member K (1-based), e.g. to retrain each "
                        "member of a shipped committee on more data")
    parser.add_argument("--head", choices=("density", "response", "energy"),
                        help="what to learn (default: the configuration's); energy: the DFT energies and forces "
                        "that the sample set's configurations carry")
    parser.add_argument("--epochs", type=int, metavar="N", help="epoch budget")
    parser.add_argument("--time-budget", type=float, metavar="S", help="wall-clock budget of this run, s")
    parser.add_argument("--batch-size", type=int, metavar="B", help="structures per step (all processes)")
    parser.add_argument("--lr", type=float, help="initial learning rate")
    parser.add_argument("--schedule", choices=("plateau", "cosine"),
                        help="lr × 0.5 on plateaus (the paper's, default) or a cosine to 1e-6 over --epochs")
    parser.add_argument("--loss", choices=("mse", "mae"),
                        help="squared (the paper's, default) or absolute error of the scaled targets")
    parser.add_argument("--patience", type=int, metavar="E", help="epochs without improvement before lr × 0.5")
    parser.add_argument("--seed", type=int, help="seed of the split, shuffles and initial weights")
    parser.add_argument("--ema", type=float, metavar="DECAY", help="evaluate and save an EMA of the weights")
    parser.add_argument("--float64", action="store_true", help="train in double precision")
    parser.add_argument("--threads", type=int, metavar="T", help="CPU threads per process (default: torch's)")
    parser.add_argument("--device", choices=("cpu", "cuda", "auto"), help="where to train (default: cpu)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)
