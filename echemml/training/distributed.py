"""Multi-process training through torch DistributedDataParallel, set up from torchrun's environment.

``torchrun --nproc_per_node N -m echemml train ...`` sets RANK, WORLD_SIZE,
LOCAL_RANK, MASTER_ADDR and MASTER_PORT; :func:`start` reads them and joins the
process group (gloo on CPU, nccl on GPU). Without them training runs in one
process and every helper here is the identity, so the user changes no code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Context:
    """Where this process stands: its rank among ``world_size`` processes, and its device."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """Rank 0 writes checkpoints, logs and the model."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def launched_by_torchrun() -> bool:
    """Whether torchrun (or another launcher with its variables) started this process."""
    return all(key in os.environ for key in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"))


def resolve_device(setting: str = "cpu") -> torch.device:
    """The device of this process: "cpu", "cuda" (the GPU of LOCAL_RANK) or "auto"."""
    if setting == "auto":
        setting = "cuda" if torch.cuda.is_available() else "cpu"
    if setting == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise RuntimeError("training.device is cuda, but torch sees no GPU")
    return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)) % torch.cuda.device_count())


def start(device: str = "cpu") -> Context:
    """Join the process group when launched by torchrun; otherwise a one-process context.

    The backend follows the device: nccl for GPUs, gloo on CPU.
    """
    where = resolve_device(device)
    if where.type == "cuda":
        torch.cuda.set_device(where)
    if not launched_by_torchrun() or int(os.environ["WORLD_SIZE"]) == 1:
        return Context(device=where)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if where.type == "cuda" else "gloo")
    return Context(rank=dist.get_rank(), world_size=dist.get_world_size(), device=where)


def stop(context: Context) -> None:
    """Leave the process group (no-op in one process)."""
    if context.distributed and dist.is_initialized():
        dist.destroy_process_group()


def all_sum(context: Context, values: torch.Tensor) -> torch.Tensor:
    """``values`` summed over all processes (float64, a copy)."""
    total = values.detach().to(torch.float64).clone()
    if context.distributed:
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
    return total


def wrap(context: Context, model: torch.nn.Module) -> torch.nn.Module:
    """The model wrapped in DistributedDataParallel when there are several processes.

    A batch need not hold every element, so per-element weights may go unused
    on one process: DDP is told to look for unused parameters.
    """
    if not context.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [context.device.index] if context.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids, find_unused_parameters=True)


def barrier(context: Context) -> None:
    """Wait for every process (no-op in one process)."""
    if context.distributed:
        dist.barrier()
