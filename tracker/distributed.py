"""Data-parallel training with torch.distributed (DistributedDataParallel).

Launch options, all running the same training code:

- plain ``hste train ...``: one process, no process group;
- ``torchrun --nproc-per-node K -m tracker.cli train ...``: torchrun sets ``RANK``,
  ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``; :func:`init_process_group`
  reads them (several machines: ``--nnodes N --node-rank R --rdzv-endpoint HOST:PORT``);
- ``hste train --nproc K``: :func:`spawn` starts K ranks on this machine itself.

Backend: ``nccl`` when CUDA is available (one GPU per local rank), ``gloo`` on CPU.

Batch semantics: batch sizes in the training config are *global* (summed over ranks). With W
ranks each rank simulates and processes ``batch / W`` scenes per step (the batch must be
divisible by W), DDP averages the gradients, so one step sees the same number of scenes and uses
the same learning rate whatever W is: K ranks do the same optimisation K times faster (up to
communication), not a larger-batch one. Each scene's seed derives from the run seed and its
*global* index, so the scenes (and hence the result, up to float rounding) do not depend on W.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from common.errors import InputError


@dataclass(frozen=True)
class RankContext:
    """Where this process sits: ``rank`` of ``world_size`` ranks, ``device`` it computes on."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """True on rank 0, the one rank that logs, prints and writes checkpoints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def share(self, global_count: int) -> range:
        """The global item indices this rank processes out of ``global_count`` (a contiguous
        block). Raises InputError if ``global_count`` is not divisible by the world size."""
        if global_count % self.world_size:
            raise InputError(f"the global batch ({global_count} scenes) must be divisible by the "
                             f"number of ranks ({self.world_size})")
        per_rank = global_count // self.world_size
        return range(self.rank * per_rank, (self.rank + 1) * per_rank)


def backend_name() -> str:
    """``nccl`` with CUDA, else ``gloo``."""
    return "nccl" if torch.cuda.is_available() else "gloo"


def init_process_group() -> RankContext:
    """Join the process group described by torchrun's environment, or run alone without one."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return RankContext()
    backend = backend_name()
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    device = torch.device("cpu")
    if backend == "nccl":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    return RankContext(dist.get_rank(), dist.get_world_size(), device)


def destroy_process_group() -> None:
    """Leave the process group if one is active."""
    if dist.is_initialized():
        dist.destroy_process_group()


def wrap(model: nn.Module, context: RankContext) -> nn.Module:
    """The model for training: DDP-wrapped when running with several ranks."""
    if not context.distributed:
        return model
    device_ids = [context.device.index] if context.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)


def barrier(context: RankContext) -> None:
    """Wait for all ranks (no-op alone)."""
    if context.distributed:
        dist.barrier()


def mean_over_ranks(value: float, context: RankContext) -> float:
    """The mean of a float over all ranks (the value itself alone)."""
    if not context.distributed:
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=context.device)
    dist.all_reduce(tensor)
    return float(tensor.item()) / context.world_size


def sum_over_ranks(values: list[float], context: RankContext) -> list[float]:
    """Elementwise sums of floats over all ranks (the values themselves alone)."""
    if not context.distributed:
        return values
    tensor = torch.tensor(values, dtype=torch.float64, device=context.device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def free_port() -> int:
    """A free TCP port on this machine for the rendezvous of spawned ranks."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _spawned_rank(rank: int, world_size: int, port: int, threads: int,
                  target: Callable[..., Any], args: tuple, errors: Any) -> None:
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size),
                      LOCAL_WORLD_SIZE=str(world_size), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(threads)
    try:
        target(*args)
    except InputError as error:  # bad input: its one line goes to the parent, no traceback
        errors.put(str(error))
        raise SystemExit(2) from None
    finally:
        destroy_process_group()


def spawn(nproc: int, target: Callable[..., Any], args: tuple = (), threads: int = 1) -> None:
    """Run ``target(*args)`` in ``nproc`` ranks on this machine, as torchrun would, and wait.

    Each rank gets torchrun's environment variables and ``threads`` torch threads; ``target``
    calls :func:`init_process_group` itself. An InputError in a rank is raised here as one
    InputError (the other ranks are stopped); any other exception in a rank is raised here too.
    """
    errors = torch.multiprocessing.get_context("spawn").SimpleQueue()
    try:
        torch.multiprocessing.spawn(
            _spawned_rank, args=(nproc, free_port(), threads, target, args, errors),
            nprocs=nproc, join=True)
    except torch.multiprocessing.ProcessExitedException:
        if not errors.empty():
            raise InputError(errors.get()) from None
        raise
