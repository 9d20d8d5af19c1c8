"""Multi-process training with PyTorch's DistributedDataParallel, launched by `torchrun`.

A plain `trajcvae train` is one process. Under `torchrun` (which sets RANK, WORLD_SIZE, LOCAL_RANK and
MASTER_ADDR/PORT) every process trains on its share of the windows: gloo on CPU, nccl on CUDA.
"""
from __future__ import annotations

import gc
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from .errors import TrajCVAEError


@dataclass
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched_by_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ and "LOCAL_RANK" in os.environ


def setup(device: torch.device) -> DistInfo:
    """Join the process group when started by torchrun; otherwise a single-process `DistInfo`."""
    if not launched_by_torchrun() or int(os.environ["WORLD_SIZE"]) == 1:
        return DistInfo()
    local_rank = int(os.environ["LOCAL_RANK"])
    if device.type == "cuda":  # each process trains on its own GPU, cuda:LOCAL_RANK; every rank refuses alike
        here, gpus = int(os.environ.get("LOCAL_WORLD_SIZE", local_rank + 1)), torch.cuda.device_count()
        if here > gpus:
            raise TrajCVAEError(f"torchrun started {here} processes on this machine, which has {gpus} GPU"
                                f"{'s' if gpus != 1 else ''}: pass --nproc_per_node {gpus} (one process per GPU), "
                                "or --device cpu")
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistInfo(dist.get_rank(), dist.get_world_size(), local_rank)


def cleanup(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        # The DDP wrapper's reducer keeps the process group alive; if the wrapper sits in a reference cycle
        # it would be freed only at interpreter exit, after the group, and gloo then aborts the process
        # ("terminate called without an active exception"). Free it while the group is still up.
        gc.collect()
        dist.destroy_process_group()


def all_sum(values: list[float], info: DistInfo, device: torch.device) -> list[float]:
    """Sum floats over all ranks (float64, so every rank gets the same bits)."""
    if not info.enabled:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()


def any_rank(flag: bool, info: DistInfo, device: torch.device) -> bool:
    """True on every rank if it is True on any rank (so all ranks stop together on a bad loss)."""
    if not info.enabled:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def broadcast_best(best: float, epoch: int, info: DistInfo, device: torch.device) -> tuple[float, int]:
    """Rank 0's best validation score and epoch, on every rank."""
    t = torch.tensor([best, float(epoch)], dtype=torch.float64, device=device)
    dist.broadcast(t, src=0)
    return float(t[0]), int(t[1])


def check_same_weights(model: torch.nn.Module, info: DistInfo, device: torch.device) -> None:
    """All ranks must end with bit-identical weights (DDP's promise); raise if they do not."""
    flat = torch.cat([p.detach().reshape(-1).double() for p in model.state_dict().values()]).to(device)
    ref = flat.clone()
    dist.broadcast(ref, src=0)
    differs = torch.tensor([float(not torch.equal(flat, ref))], device=device)
    dist.all_reduce(differs, op=dist.ReduceOp.MAX)
    if differs.item() > 0:
        raise TrajCVAEError("DDP: ranks finished with different weights; the run is not consistent")


def all_states(state: torch.Tensor, info: DistInfo, device: torch.device) -> list[torch.Tensor]:
    """Every rank's byte tensor `state` (a random-number generator's), in rank order, on the CPU: what a
    checkpoint keeps so that each rank resumes its own stream."""
    if not info.enabled:
        return [state]
    t = state.to(device)
    out = [torch.empty_like(t) for _ in range(info.world_size)]
    dist.all_gather(out, t)
    return [o.cpu() for o in out]


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()
