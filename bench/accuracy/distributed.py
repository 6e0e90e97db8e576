"""The process group of a ``torchrun`` launch, or a single process when there is none.

``torchrun --nproc_per_node=N -m bench run SUITE`` sets RANK / WORLD_SIZE / LOCAL_RANK; the
group uses gloo on CPU and nccl on CUDA. Each process takes every N-th image of each batch,
so the global batch, the steps and the schedule are those of one process; rank 0 alone
writes checkpoints and result rows. A single process needs no group: every method
then does the single-process thing, so the training loop has one code path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as torch_dist
from torch import nn


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device_type: str = "cpu"

    @classmethod
    def from_env(cls, device_type: str = "cpu") -> DistContext:
        """Join the group torchrun set up (idempotent); a single process if WORLD_SIZE is unset or 1."""
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        if world_size == 1:
            return cls()
        if not torch_dist.is_initialized():
            torch_dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        return cls(torch_dist.get_rank(), torch_dist.get_world_size(), local_rank, device_type)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def wrap(self, model: nn.Module, device: torch.device) -> nn.Module:
        """DistributedDataParallel around ``model`` when there is more than one process."""
        if self.world_size == 1:
            return model
        ids = [device.index or 0] if device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sum over all processes."""
        if self.world_size == 1:
            return list(values)
        device = torch.device("cuda", self.local_rank) if self.device_type == "cuda" else torch.device("cpu")
        tensor = torch.tensor(values, dtype=torch.float64, device=device)  # nccl reduces CUDA tensors only
        torch_dist.all_reduce(tensor)
        return tensor.tolist()

    def barrier(self) -> None:
        if self.world_size > 1:
            torch_dist.barrier()
