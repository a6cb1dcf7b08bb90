"""Running under torchrun: process group, sharding, summing shares of losses, gradients and metrics.

Without torchrun every method is a no-op, so the Trainer has one code path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class DistContext:
    """Rank, world size and device of this process. The default is a single process."""

    rank: int = 0
    world_size: int = 1
    device: torch.device | None = None

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_environment(cls, device_name: str = "auto") -> DistContext:
        """Join the process group when torchrun set WORLD_SIZE > 1: gloo on CPU, nccl on CUDA."""
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world <= 1:
            return cls()
        # Under torchrun each rank takes the GPU of its LOCAL_RANK, so "cuda:N" means CUDA here too.
        wants_cuda = device_name in ("auto", "cuda") or device_name.startswith("cuda:")
        use_cuda = wants_cuda and torch.cuda.is_available()
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if not dist.is_initialized():
            dist.init_process_group("nccl" if use_cuda else "gloo")
        device = torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")
        if use_cuda:
            torch.cuda.set_device(device)
        return cls(dist.get_rank(), dist.get_world_size(), device)

    def wrap(self, module: torch.nn.Module) -> torch.nn.Module:
        if self.world_size == 1:
            return module
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device is not None and self.device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=ids)

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.world_size > 1:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def sum_across(self, tensor: torch.Tensor) -> torch.Tensor:
        """The sum over ranks, in a new tensor (``tensor`` is left as it is)."""
        if self.world_size == 1:
            return tensor
        tensor = tensor.clone()
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def close(self, finished: bool = True) -> None:
        """Leave the process group. After a normal end every rank first waits for the others
        (a barrier), so none tears the group down while another still talks to it; after an
        error it does not wait, since a failed rank may never arrive. Drop the DDP model
        before calling this: its reducer must not outlive the group."""
        if self.world_size > 1 and dist.is_initialized():
            if finished:
                dist.barrier()
            dist.destroy_process_group()
