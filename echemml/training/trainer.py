"""The Trainer: fits a density or response head to a sample set, resumably, in one or many processes.

The schedule is the paper's (Feng, Zhang & Jiang, JCTC 2025, Sec. 2): AdamW,
learning rate × ``lr_factor`` when the validation loss has not improved for
``patience`` epochs, stop once it falls below ``min_lr`` (or at an epoch or
time budget). ``schedule: cosine`` instead anneals the rate from ``lr`` to
``min_lr`` over ``max_epochs`` (Loshchilov & Hutter, SGDR, ICLR 2017).
The loss is the weighted mean squared (or, with ``loss: mae``,
absolute) error of the targets divided by their standard deviation (set from
the training targets at the start of a fresh run and stored in the model). A
non-finite loss reloads the best weights so far and lowers the learning rate
instead of poisoning the run.

Each epoch's batch order comes from a DistributedSampler seeded with
(seed + epoch), so a run resumed from any checkpoint — even one written in the
middle of an epoch by Ctrl-C — continues exactly as the uninterrupted run would.
Under torchrun every process takes its share of each global batch of
``batch_size`` structures; the loss is normalised by the points of the whole
global batch, so the averaged gradient equals the one-process gradient.

Outputs in the run folder: checkpoint.pt, model.pt (best validation weights,
loadable by ``echemml predict``), log.csv, learning_curve.png, config.yaml.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data.distributed import DistributedSampler
from tqdm import tqdm

from .. import keys
from ..errors import EchemmlError
from ..io.labelled_frames import read_labelled_frames
from ..io.samples import SampledConfiguration, SampleSet, element_valence_charges
from ..model.files import save_model
from ..model.fireann import FireannConfig
from ..model.heads import GhostPointModel, build_model
from . import distributed
from .checkpoints import capture_rng, load_checkpoint, restore_rng, save_checkpoint
from .config import Config, write_config
from .data import PointDataset, StructurePoints
from .energy_data import EnergyDataset, StructureEnergy, reference_energies, require_energy_labels
from .ema import WeightAverage
from .log import write_learning_curve, write_log

CHECKPOINT_NAME = "checkpoint.pt"
MODEL_NAME = "model.pt"
LOG_NAME = "log.csv"
CURVE_NAME = "learning_curve.png"
CONFIG_NAME = "config.yaml"


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on Ctrl-C (or SIGTERM) after saving a checkpoint at ``path``."""

    def __init__(self, path: Path):
        super().__init__(f"interrupted; checkpoint saved to {path} (resume with --resume)")
        self.path = path


@dataclass
class Progress:
    """Where a run stands.

    Attributes:
        epoch: epochs completed.
        batch: next batch of epoch ``epoch + 1`` (non-zero only after an interrupt).
        sums: running (weighted squared error, weight) of that epoch's training loss.
        best_loss: best validation loss so far.
        history: one log row per completed epoch.
        stop_reason: why the last run stopped ("" while running).
    """

    epoch: int = 0
    batch: int = 0
    sums: list[float] = field(default_factory=lambda: [0.0, 0.0])
    best_loss: float = math.inf
    history: list[dict] = field(default_factory=list)
    stop_reason: str = ""


def read_samples(sources: str | os.PathLike | Sequence[str | os.PathLike]) -> tuple[list, list[str]]:
    """All complete configurations of one or more sources and their names.

    A source is an HDF5 sample set or an extxyz of labelled frames
    (:func:`~echemml.io.labelled_frames.read_labelled_frames`: energies and forces,
    for the energy head). With several sources each name is prefixed ``STEM/``.
    """
    paths = sample_paths(sources)
    configurations, names = [], []
    for path in paths:
        if path.suffix.lower() in (".h5", ".hdf5"):
            with SampleSet(path, "r") as samples:
                found = samples.names()
                configurations += [samples[name] for name in found]
        else:
            configs, found = read_labelled_frames(path)
            configurations += configs
        if not found:
            raise EchemmlError(f"{path}: the sample set holds no configurations")
        names += [f"{path.name.split('.')[0]}/{name}" if len(paths) > 1 else name for name in found]
    return configurations, names


def sample_paths(sources: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    """The source paths of ``sources``: one path, or a list of them."""
    if isinstance(sources, (str, os.PathLike)):
        return [Path(sources)]
    return [Path(source) for source in sources]


def valence_table(
    configurations: list[SampledConfiguration], init_model: GhostPointModel | None = None
) -> dict[str, float] | None:
    """The valence charge (e) of each element that a model trained on ``configurations`` records, or None.

    From the configurations (:func:`~echemml.io.samples.element_valence_charges`);
    when none of them carries valence charges, a warm start keeps its init model's table.
    """
    if any(config.valence_charges is not None for config in configurations):
        return element_valence_charges(configurations)
    return getattr(init_model, "metadata", {}).get("valence_charges")


class Trainer:
    """Train a density or response model on a sample set.

    Args:
        config: the configuration (model sizes, schedule, budgets).
        samples: path of the HDF5 sample set, or of an extxyz of labelled frames (energy
            head), or a list of them (:func:`read_samples`).
        out_dir: run folder for checkpoints, logs and the model.
        init_model: warm start from this model (its sizes and target scaling are kept).
        progress_bar: show a tqdm bar (rank 0 only).
    """

    def __init__(
        self,
        config: Config,
        samples: str | os.PathLike | Sequence[str | os.PathLike],
        out_dir: str | os.PathLike,
        init_model: GhostPointModel | None = None,
        progress_bar: bool = True,
    ):
        self.config = config
        paths = sample_paths(samples)
        self.samples = ", ".join(str(path) for path in paths)
        self.out_dir = Path(out_dir)
        self.progress_bar = progress_bar
        settings = config.training
        self.context = distributed.start(settings.device)
        self.device = self.context.device
        if settings.threads is not None:
            torch.set_num_threads(int(settings.threads))
        self.dtype = torch.float64 if settings.dtype == "float64" else torch.float32

        configurations, names = read_samples(samples)
        kinds = {c.target for c in configurations}
        if config.head == keys.ENERGY:
            require_energy_labels(configurations, names, self.samples)
        elif kinds != {config.head}:
            raise EchemmlError(
                f"{self.samples}: a {config.head} model needs {config.head} targets, "
                f"the sample set holds {', '.join(sorted(kinds))}"
            )
        torch.manual_seed(settings.seed)
        if init_model is not None:
            if len(init_model.members) > 1:
                raise EchemmlError("cannot warm-start from a committee; give one of its members")
            if init_model.head != config.head:
                raise EchemmlError(f"cannot warm-start a {config.head} model from a {init_model.head} model")
            self.model = copy.deepcopy(init_model)
        else:
            self.model = build_model(self._model_config(configurations), config.head)
        self.model = self.model.to(self.dtype).to(self.device).train()
        self.train_set, self.validation_set = self._datasets(configurations, names)
        if len(self.validation_set.targets()) == 0:
            raise EchemmlError(
                f"{self.samples}: no configuration matches training.validation_configurations "
                f"{settings.validation_configurations}" if settings.validation_configurations
                else f"{self.samples}: too few sampled points for a validation split"
            )
        if len(self.train_set.targets()) == 0:
            raise EchemmlError(f"{self.samples}: every configuration matches training.validation_configurations")
        self.data_summary = {
            "samples": str(samples) if isinstance(samples, (str, os.PathLike)) else [str(path) for path in paths],
            "configurations": len(names),
            "points": int(sum(len(c.targets) for c in configurations)),
            "train_points": self.train_set.n_points,
            "validation_points": self.validation_set.n_points,
        }
        self.valence_charges = valence_table(configurations, init_model)
        if init_model is None:
            self._set_target_scaling()
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
        self.scheduler = self._scheduler(settings)
        self.average = WeightAverage(self.model, settings.ema_decay) if settings.ema_decay else None
        self.best_state = self._evaluation_state()
        self.progress = Progress()
        self._stop_requested = False

    # ---------------------------------------------------------------- setup
    def _scheduler(self, settings) -> torch.optim.lr_scheduler.LRScheduler | torch.optim.lr_scheduler.ReduceLROnPlateau:
        """The learning-rate schedule of ``training.schedule``, stepped once per epoch."""
        if settings.schedule == "cosine":
            return torch.optim.lr_scheduler.CosineAnnealingLR(
                self.optimizer, T_max=int(settings.max_epochs), eta_min=settings.min_lr
            )
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            self.optimizer, mode="min", factor=settings.lr_factor, patience=settings.patience,
            threshold=0.0, min_lr=0.0,
        )

    def _datasets(self, configurations, names) -> tuple[PointDataset, PointDataset] | tuple[EnergyDataset, EnergyDataset]:
        """(training, validation): sampled points for a density or response head, whole labelled
        configurations for the energy head."""
        settings = self.config.training
        if self.model.head == keys.ENERGY:
            return EnergyDataset.split(
                configurations, names, self.model.species, self.model.cutoff, settings.validation_fraction,
                settings.seed, self.dtype, settings.validation_configurations,
            )
        return PointDataset.split(
            configurations, names, self.model.species, self.model.cutoff,
            settings.validation_fraction, settings.seed, settings.loss_weights, self.dtype,
            settings.validation_configurations,
        )

    def _model_config(self, configurations) -> FireannConfig:
        m = self.config.model
        species = m.species or sorted({int(z) for c in configurations for z in c.atoms.numbers})
        return FireannConfig(
            species=tuple(int(z) for z in species), cutoff=float(m.cutoff), n_radial=int(m.n_radial),
            max_l=int(m.max_l), n_iterations=int(m.n_iterations),
            orbital_hidden=tuple(int(w) for w in m.orbital_hidden),
            readout_hidden=tuple(int(w) for w in m.readout_hidden),
        )

    def _set_target_scaling(self) -> None:
        """The spread of the training targets into the model's scale buffer (e/Å³).

        Both ghost-point heads are zero far from the atoms and have no offset, so the
        spread is the root mean square of the targets. The energy head gets per-element
        reference energies (eV) by least squares and, as its scale, the root mean square
        of the training forces (eV/Å, as MACE scales its atomic energies).
        """
        targets = self.train_set.targets().astype(np.float64)  # the energy head's: force components
        spread = float(np.sqrt(np.mean(targets**2)))
        if self.model.head == keys.ENERGY:
            references = reference_energies(self.train_set, self.model.species)
            self.model.atomic_energies.copy_(torch.as_tensor(references, dtype=self.model.atomic_energies.dtype))
            self.model.energy_std.fill_(spread if spread > 0 else 1.0)
        else:
            self.model.target_std.fill_(spread if spread > 0 else 1.0)

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    @property
    def checkpoint_path(self) -> Path:
        return self.out_dir / CHECKPOINT_NAME

    @property
    def model_path(self) -> Path:
        return self.out_dir / MODEL_NAME

    # ---------------------------------------------------------------- state
    def _evaluation_state(self) -> dict[str, torch.Tensor]:
        """The weights validation uses: the moving average when enabled, else the model's."""
        if self.average is not None:
            return self.average.state_dict()
        return {key: value.detach().clone() for key, value in self.model.state_dict().items()}

    def state(self) -> dict:
        """The checkpoint payload of the run as it stands."""
        p = self.progress
        return {
            "head": self.model.head,
            "hyperparameters": self.model.config.to_dict(),
            "config": self.config.to_dict(),
            "data": self.data_summary,
            "state": {
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "average": None if self.average is None else self.average.state_dict(),
                "best": self.best_state,
            },
            "rng": capture_rng(),
            "progress": {
                "epoch": p.epoch, "batch": p.batch, "sums": list(p.sums), "best_loss": p.best_loss,
                "history": list(p.history), "stop_reason": p.stop_reason,
            },
        }

    def load_state(self, payload: dict, path: Path) -> None:
        """Restore a checkpoint written by :meth:`state` for the same model and data."""
        if payload["head"] != self.model.head or payload["hyperparameters"] != self.model.config.to_dict():
            raise EchemmlError(f"{path}: the checkpoint is of another model than this configuration builds")
        data = {key: payload["data"].get(key) for key in ("configurations", "points", "train_points")}
        if data != {key: self.data_summary[key] for key in data}:
            raise EchemmlError(
                f"{path}: the checkpoint was trained on other data ({payload['data']}) "
                f"than {self.samples} ({self.data_summary})"
            )
        state = payload["state"]
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if self.average is not None and state["average"] is not None:
            self.average.load_state_dict(state["average"])
        self.best_state = {key: value.clone() for key, value in state["best"].items()}
        restore_rng(payload["rng"])
        p = payload["progress"]
        self.progress = Progress(
            epoch=int(p["epoch"]), batch=int(p["batch"]), sums=[float(s) for s in p["sums"]],
            best_loss=float(p["best_loss"]), history=list(p["history"]),
        )

    @classmethod
    def resume(
        cls,
        out_dir: str | os.PathLike,
        samples: str | os.PathLike | None = None,
        max_epochs: int | None = None,
        time_budget: float | None = None,
        progress_bar: bool = True,
    ) -> Trainer:
        """A trainer restored from ``out_dir``/checkpoint.pt, with new budgets if given."""
        path = Path(out_dir) / CHECKPOINT_NAME
        payload = load_checkpoint(path)
        try:
            config = Config.from_dict(payload["config"], path)
        except EchemmlError as exc:
            raise EchemmlError(f"{path}: the checkpoint's configuration is unusable ({exc})") from None
        config.model.species = list(payload["hyperparameters"].get("species") or config.model.species or [])
        if max_epochs is not None:
            config.training.max_epochs = max_epochs
        if time_budget is not None:
            config.training.time_budget = time_budget
        samples = samples or payload["data"].get("samples") or config.samples
        trainer = cls(config, samples, out_dir, progress_bar=progress_bar)
        trainer.load_state(payload, path)
        return trainer

    # ---------------------------------------------------------------- training
    def train(self) -> Progress:
        """Train until the learning rate, epoch or time budget runs out; returns the progress.

        Raises :class:`TrainingInterrupted` (a KeyboardInterrupt) after saving a
        checkpoint when Ctrl-C or SIGTERM arrives.
        """
        settings = self.config.training
        if self.context.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            write_config(self.config, self.out_dir / CONFIG_NAME)
        network = distributed.wrap(self.context, self.model)
        started = time.perf_counter()
        self.progress.stop_reason = ""
        bar = tqdm(
            total=settings.max_epochs, initial=self.progress.epoch, unit="epoch", dynamic_ncols=True,
            disable=not (self.progress_bar and self.context.is_main),
        )
        with bar, self._stop_signals():
            while not self.progress.stop_reason:
                self.progress.stop_reason = self._stop_reason(started)
                if self.progress.stop_reason:
                    break
                epoch_started = time.perf_counter()
                train_loss = self._train_epoch(network)
                val_loss, val_rmse = self.validate()
                self._end_epoch(train_loss, val_loss, val_rmse, time.perf_counter() - epoch_started)
                bar.update(1)
                bar.set_postfix(self._postfix(started), refresh=False)
        self._finish()
        return self.progress

    def _stop_reason(self, started: float) -> str:
        t = self.config.training
        if t.schedule == "plateau" and self.lr < t.min_lr:
            return f"learning rate {self.lr:.3g} below {t.min_lr:g}"
        if t.max_epochs is not None and self.progress.epoch >= t.max_epochs:
            return f"epoch budget of {t.max_epochs} reached"
        if t.time_budget is not None and time.perf_counter() - started >= t.time_budget:
            return f"time budget of {t.time_budget:g} s reached"
        return ""

    def _postfix(self, started: float) -> dict:
        last = self.progress.history[-1]
        postfix = {"train": f"{last['train_loss']:.3e}", "val": f"{last['val_loss']:.3e}", "lr": f"{last['lr']:.1e}"}
        budget = self.config.training.time_budget
        if budget is not None:
            postfix["left"] = f"{max(0.0, budget - (time.perf_counter() - started)):.0f}s"
        return postfix

    def _batches(self, dataset: PointDataset, epoch: int, shuffle: bool) -> list[list[int]]:
        """This process's share of every global batch of an epoch, as dataset indices."""
        world = self.context.world_size
        per_process = max(1, self.config.training.batch_size // world)
        if shuffle:
            sampler = DistributedSampler(
                dataset, num_replicas=world, rank=self.context.rank, shuffle=True, seed=self.config.training.seed
            )
            sampler.set_epoch(epoch)
            indices = list(sampler)
        else:  # validation: every structure exactly once over all processes
            indices = list(range(self.context.rank, len(dataset), world))
        return [indices[i : i + per_process] for i in range(0, len(indices), per_process)]

    def _train_epoch(self, network: torch.nn.Module) -> float:
        """One pass over the training structures, from batch ``progress.batch``; mean loss."""
        p = self.progress
        epoch = p.epoch + 1
        self.model.train()
        batches = self._batches(self.train_set, epoch, shuffle=True)
        for number in range(p.batch, len(batches)):
            batch = self.train_set.collate([self.train_set[i] for i in batches[number]]).to_device(self.device)
            errors, weights = self._batch_errors(network, batch)
            weighted_error = (weights * errors).sum()
            local = torch.stack(
                [weighted_error.detach().double(), weights.sum().double(),
                 torch.tensor(float(self._stop_requested), dtype=torch.float64, device=self.device)]
            )
            error_sum, weight_sum, stop = distributed.all_sum(self.context, local).tolist()
            if not math.isfinite(error_sum):
                self._recover_from_blow_up()
            else:
                loss = weighted_error * (self.context.world_size / weight_sum)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if self.config.training.grad_clip is not None:
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.training.grad_clip)
                self.optimizer.step()
                if self.average is not None:
                    self.average.update(self.model)
                p.sums[0] += error_sum
                p.sums[1] += weight_sum
            p.batch = number + 1
            if stop:
                self._save_checkpoint()
                distributed.barrier(self.context)
                raise TrainingInterrupted(self.checkpoint_path)
        loss = p.sums[0] / p.sums[1] if p.sums[1] else math.nan
        p.batch, p.sums = 0, [0.0, 0.0]
        return loss

    def _batch_errors(self, network: torch.nn.Module, batch) -> tuple[torch.Tensor, torch.Tensor]:
        """(each item's loss, its weight): points of a ghost-point head, structures of the energy head."""
        if self.model.head == keys.ENERGY:
            errors, _ = self._energy_errors(network, batch)
            return errors, torch.ones_like(errors)
        return self._penalty(self._normalised_error(network, batch)), batch.weights

    def _energy_errors(self, network: torch.nn.Module, batch: StructureEnergy) -> tuple[torch.Tensor, torch.Tensor]:
        """(each structure's loss, the force residuals (N, 3) eV/Å) of an energy model.

        The loss of a structure of N atoms is w_E·p((E − E_DFT)/N) + w_F·mean over its
        3N force components of p(F − F_DFT), p the squared or absolute error (eV, eV/Å),
        with MACE's weights by default (w_E 1, w_F 100).
        """
        with torch.enable_grad():  # forces are −∂E/∂R, in validation too
            out = network(batch.model_input(), compute_forces=True)
        atoms = batch.atoms_per_structure
        energy_error = self._penalty((out[keys.ENERGY] - batch.energy) / atoms)
        residual = out[keys.FORCES] - batch.forces
        per_atom = self._penalty(residual).sum(dim=1)
        force_error = torch.zeros_like(energy_error).index_add(0, batch.graph.structure, per_atom) / (3 * atoms)
        t = self.config.training
        return t.energy_weight * energy_error + t.forces_weight * force_error, residual

    def _normalised_error(self, network: torch.nn.Module, batch: StructurePoints) -> torch.Tensor:
        """(prediction − target) / target spread at every point of the batch."""
        predicted = network(batch.model_input())[self.model.output_key]
        return (predicted - batch.targets) / self.model.target_std.to(predicted.dtype)

    def _penalty(self, normalised_error: torch.Tensor) -> torch.Tensor:
        """Each point's loss: the squared or absolute normalised error (``training.loss``)."""
        return normalised_error.abs() if self.config.training.loss == "mae" else normalised_error**2

    def _recover_from_blow_up(self) -> None:
        """A non-finite loss: back to the best weights so far, learning rate × lr_factor."""
        self.model.load_state_dict(self.best_state)
        for group in self.optimizer.param_groups:
            group["lr"] *= self.config.training.lr_factor
        self.optimizer.state.clear()

    @torch.no_grad()
    def validate(self) -> tuple[float, float]:
        """(validation loss, validation RMSE) with the evaluation weights, all processes together.

        The RMSE is over the sampled points (e/Å³) for a density or response head, over the
        force components (eV/Å) for the energy head.
        """
        evaluated = self.model
        if self.average is not None:
            evaluated = copy.deepcopy(self.model)
            evaluated.load_state_dict(self.average.state_dict())
        evaluated.eval()
        local = torch.zeros(3, dtype=torch.float64, device=self.device)
        for indices in self._batches(self.validation_set, 0, shuffle=False):
            batch = self.validation_set.collate([self.validation_set[i] for i in indices]).to_device(self.device)
            if self.model.head == keys.ENERGY:
                errors, residual = self._energy_errors(evaluated, batch)
                errors, weights, residual = errors.double(), torch.ones_like(errors, dtype=torch.float64), residual.double()
            else:
                residual = (evaluated(batch.model_input())[self.model.output_key] - batch.targets).double()
                errors, weights = self._penalty(residual / float(self.model.target_std)), batch.weights.double()
            local += torch.stack([(weights * errors).sum(), weights.sum(), (residual**2).sum()])
        self.model.train()
        error_sum, weight_sum, squared_sum = distributed.all_sum(self.context, local).tolist()
        return error_sum / weight_sum, math.sqrt(squared_sum / self.validation_set.n_points)

    def _end_epoch(self, train_loss: float, val_loss: float, val_rmse: float, seconds: float) -> None:
        p = self.progress
        p.epoch += 1
        if val_loss < p.best_loss:
            p.best_loss = val_loss
            self.best_state = self._evaluation_state()
        if self.config.training.schedule == "plateau":
            self.scheduler.step(val_loss)
        else:
            self.scheduler.step()
        p.history.append(
            {"epoch": p.epoch, "train_loss": train_loss, "val_loss": val_loss, "val_rmse": val_rmse,
             "lr": self.lr, "seconds": seconds}
        )
        if p.epoch % self.config.training.checkpoint_every == 0:
            self._save_checkpoint()
        if self.context.is_main:
            write_log(p.history, self.out_dir / LOG_NAME)

    def _save_checkpoint(self) -> None:
        if self.context.is_main:
            save_checkpoint(self.state(), self.checkpoint_path)

    def _finish(self) -> None:
        """Final checkpoint, model (best evaluation weights), log and learning curve."""
        self._save_checkpoint()
        if self.context.is_main:
            final = copy.deepcopy(self.model)
            final.load_state_dict(self.best_state)
            save_model(final, self.model_path, metadata=self.metadata())
            write_log(self.progress.history, self.out_dir / LOG_NAME)
            write_learning_curve(self.progress.history, self.out_dir / CURVE_NAME)
        distributed.barrier(self.context)

    def metadata(self) -> dict:
        """Facts stored in the model file: data, epochs, best validation loss and RMSE, and the
        valence charge of each element (e, "valence_charges") when the training data agree on them."""
        best = min(self.progress.history, key=lambda row: row["val_loss"], default=None)
        facts = {
            **self.data_summary,
            "epochs": self.progress.epoch,
            "best_val_loss": None if best is None else best["val_loss"],
            "best_val_rmse": None if best is None else best["val_rmse"],
            "stop_reason": self.progress.stop_reason,
            "processes": self.context.world_size,
        }
        if self.valence_charges is not None:
            facts["valence_charges"] = dict(self.valence_charges)
        return facts

    @contextlib.contextmanager
    def _stop_signals(self) -> Iterator[None]:
        """Turn Ctrl-C and SIGTERM into a request to stop after the current batch (a second one stops now)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def request_stop(signum, frame):
            if self._stop_requested:
                raise KeyboardInterrupt
            self._stop_requested = True

        previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._stop_requested = False
