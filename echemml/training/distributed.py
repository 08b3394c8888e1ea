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
    """Where this process stands: its rank among ``world_size`` processes."""

    rank: int = 0
    world_size: int = 1

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


def start() -> Context:
    """Join the process group when launched by torchrun; otherwise a one-process context."""
    if not launched_by_torchrun() or int(os.environ["WORLD_SIZE"]) == 1:
        return Context()
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend=backend)
    return Context(rank=dist.get_rank(), world_size=dist.get_world_size())


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

    return DistributedDataParallel(model, find_unused_parameters=True)


def barrier(context: Context) -> None:
    """Wait for every process (no-op in one process)."""
    if context.distributed:
        dist.barrier()
