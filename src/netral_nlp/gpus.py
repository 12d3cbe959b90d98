"""Which GPU each local scoring process gets: one process per visible GPU, each seeing only
its own device through ``CUDA_VISIBLE_DEVICES``, set before torch is imported in it.

The visible devices are the entries of a user-set ``CUDA_VISIBLE_DEVICES`` (indices such
as ``2,3``, or GPU/MIG UUIDs such as ``MIG-4b9c...``, kept as written), else ``0..n-1``
from ``torch.cuda.device_count()``. A process given the entry ``3`` sees it as ``cuda:0``;
the CUDA runtime does the renumbering, so the model code needs no device index.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

CUDA_VISIBLE_DEVICES = "CUDA_VISIBLE_DEVICES"


def _torch_device_count() -> int:
    """GPUs torch sees; 0 without torch. Counting goes through NVML and does not create
    a CUDA context in this process, so workers started after it can still choose."""
    try:
        import torch
    except ImportError:
        return 0
    return int(torch.cuda.device_count())


def visible_devices(
    env: Mapping[str, str] | None = None, count: Callable[[], int] | None = None
) -> list[str]:
    """The devices this process may hand out, in order (``env`` defaults to os.environ).

    A set ``CUDA_VISIBLE_DEVICES`` wins as written (an empty value or ``-1`` means none);
    otherwise ``count()`` (default: torch's device count) devices numbered from 0.
    """
    env = os.environ if env is None else env
    listed = env.get(CUDA_VISIBLE_DEVICES)
    if listed is not None:
        entries = [e.strip() for e in listed.split(",") if e.strip()]
        # CUDA stops at the first invalid entry; -1 is the conventional "no GPU"
        if "-1" in entries:
            entries = entries[: entries.index("-1")]
        return entries
    return [str(i) for i in range((count or _torch_device_count)())]


def assign_devices(devices: list[str], gpus: int = 0) -> list[str]:
    """One device per worker: the first ``gpus`` of ``devices`` (0: all of them).

    Raises ValueError when more GPUs are asked for than are visible.
    """
    if gpus < 0:
        raise ValueError("gpus must be >= 0")
    if gpus > len(devices):
        raise ValueError(
            f"--gpus {gpus} asks for more GPUs than are visible ({len(devices)}: "
            f"{','.join(devices) or 'none'})"
        )
    return devices[:gpus] if gpus else list(devices)


def worker_env(device: str) -> dict[str, str]:
    """The environment a worker needs to see only ``device`` (as its ``cuda:0``)."""
    return {CUDA_VISIBLE_DEVICES: device}
