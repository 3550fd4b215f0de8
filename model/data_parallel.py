"""Data-parallel training over processes with torch.distributed: every process draws the same global
batch (same generator, same input code draws), takes its own rows of it, and the gradients are summed
across processes before each optimizer step. With each process's loss weighted by its share of the
global batch, the summed gradient is the global batch's, so N processes take the steps one process
would on the same batch (up to the order of floating-point additions).

Backends: gloo on the CPU, nccl on CUDA. `spawn` starts the processes on this machine; a process
group made by the caller (torchrun on several machines, then init_process_group) is used as it is.
"""

from __future__ import annotations

import io
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
import torch.distributed as dist


@dataclass(frozen=True, kw_only=True)
class Shard:
    """This process's place among `world` processes."""

    rank: int = 0
    world: int = 1

    def __post_init__(self) -> None:
        if not (isinstance(self.world, int) and self.world >= 1 and isinstance(self.rank, int)
                and 0 <= self.rank < self.world):
            raise ValueError(f"rank {self.rank!r} of {self.world!r} processes is not a place in the group")

    @classmethod
    def current(cls) -> "Shard":
        """The running process group's place, or the single process."""
        if dist.is_available() and dist.is_initialized():
            return cls(rank=dist.get_rank(), world=dist.get_world_size())
        return cls()

    def rows(self, batch_size: int) -> slice:
        """This process's contiguous rows of a global batch (the first processes take one more when the
        batch does not divide evenly; a process may get none)."""
        base, extra = divmod(batch_size, self.world)
        start = self.rank * base + min(self.rank, extra)
        return slice(start, start + base + (1 if self.rank < extra else 0))

    def share(self, batch_size: int) -> float:
        """The fraction of the global batch this process computes."""
        rows = self.rows(batch_size)
        return (rows.stop - rows.start) / batch_size

    def sum_gradients(self, parameters: list[torch.Tensor]) -> None:
        """Each parameter's gradient summed over the processes (a process's missing gradient counts 0)."""
        if self.world == 1:
            return
        for p in parameters:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)

    def sum(self, values: list[float], device: torch.device) -> list[float]:
        """Numbers summed over the processes (bookkeeping: loss and correct counts)."""
        if self.world == 1:
            return values
        total = torch.tensor(values, dtype=torch.float64, device=device)
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        return total.tolist()


def backend_for(device: torch.device) -> str:
    return "nccl" if device.type == "cuda" else "gloo"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, device: str, work: Callable, payload: bytes, out: str) -> None:
    payload = torch.load(io.BytesIO(payload), weights_only=False)
    torch.set_num_threads(max(1, torch.get_num_threads() // world))
    dist.init_process_group(backend_for(torch.device(device)), init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world)
    try:
        if device.startswith("cuda"):
            torch.cuda.set_device(rank % torch.cuda.device_count())
        result = work(payload)
        if rank == 0:
            torch.save(result, out)
    finally:
        dist.destroy_process_group()


def spawn(work: Callable[[Any], Any], payload: Any, *, processes: int, device: str) -> Any:
    """work(payload) run in `processes` new processes joined in one group on this machine; what rank 0's
    call returned. `work` must be a module-level function (the processes import it)."""
    if not isinstance(processes, int) or processes < 2:
        raise ValueError(f"spawn needs at least 2 processes, not {processes!r}")
    # The payload goes as bytes: pickled directly, its tensors would be moved to memory the processes
    # share, and every process's optimizer would then step the same weights.
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    with tempfile.TemporaryDirectory(prefix="spikefab-dp-") as folder:
        out = str(Path(folder) / "result.pt")
        torch.multiprocessing.spawn(_worker, args=(processes, _free_port(), device, work, buffer.getvalue(), out),
                                    nprocs=processes, join=True)
        return torch.load(out, weights_only=False)
