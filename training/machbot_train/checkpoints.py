"""Per-epoch training checkpoints: everything needed to resume a run exactly where it stopped."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import torch


def save_checkpoint(path: Path, model: torch.nn.Module, optim: Any, sched: Any, epoch: int, best: dict) -> None:
    torch.save(
        {
            "model": model.state_dict(),
            "optim": optim.state_dict(),
            "sched": sched.state_dict(),
            "epoch": epoch,
            "best": best,
            "py_rng": random.getstate(),
            "torch_rng": torch.get_rng_state(),
        },
        path,
    )


def resume(path: Path, model: torch.nn.Module, optim: Any, sched: Any, best: dict) -> tuple[int, dict]:
    """Restore state from `path` if it exists; return (epochs completed, best metrics so far)."""
    if not path.exists():
        return 0, best
    ckpt = torch.load(path, weights_only=False)
    model.load_state_dict(ckpt["model"])
    optim.load_state_dict(ckpt["optim"])
    sched.load_state_dict(ckpt["sched"])
    random.setstate(ckpt["py_rng"])
    torch.set_rng_state(ckpt["torch_rng"])
    return ckpt["epoch"], ckpt["best"]
