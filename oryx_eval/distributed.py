"""Scale-out on torch.distributed: ranks and world size come from the launcher (`torchrun`/`accelerate`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any


@dataclass(frozen=True)
class Dist:
    """This process's place in the job (rank 0 of 1 when not launched by torchrun)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    """Rank on this node (``LOCAL_RANK`` from the launcher): selects the GPU."""

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_dist() -> Dist:
    """Join the process group the launcher set up (gloo on CPU, nccl-free: only objects are exchanged)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    import torch.distributed as td

    if not td.is_initialized():
        td.init_process_group(backend="gloo", timeout=timedelta(hours=12))
    local = int(os.environ.get("LOCAL_RANK", td.get_rank()))
    return Dist(rank=td.get_rank(), world=td.get_world_size(), local_rank=local)


def resolve_device(device: str | None, dist: Dist, cuda_available: bool) -> str | None:
    """The device a rank uses: under a launcher, ``cuda`` (or no device with CUDA present) means
    ``cuda:LOCAL_RANK``, so ranks never share GPU 0; explicit ``cuda:N`` and ``cpu`` are kept."""
    if dist.world <= 1:
        return device
    if device == "cuda" or (device is None and cuda_available):
        return f"cuda:{dist.local_rank}"
    return device


def broadcast(obj: Any, dist: Dist) -> Any:
    """Rank 0's ``obj`` on every rank."""
    if dist.world == 1:
        return obj
    import torch.distributed as td

    box = [obj]
    td.broadcast_object_list(box, src=0)
    return box[0]


def barrier(dist: Dist) -> None:
    """Wait for every rank."""
    if dist.world > 1:
        import torch.distributed as td

        td.barrier()


def all_gather(obj: Any, dist: Dist) -> list[Any]:
    """Every rank's ``obj``, in rank order."""
    if dist.world == 1:
        return [obj]
    import torch.distributed as td

    out: list[Any] = [None] * dist.world
    td.all_gather_object(out, obj)
    return out


def shutdown(dist: Dist) -> None:
    """Leave the process group."""
    if dist.world > 1:
        import torch.distributed as td

        if td.is_initialized():
            td.destroy_process_group()
