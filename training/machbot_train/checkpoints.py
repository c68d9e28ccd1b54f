"""Training checkpoints: everything needed to resume a run exactly where it stopped, mid-epoch too."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch


@dataclass(frozen=True)
class ResumeState:
    epoch: int  # epochs completed
    step: int  # steps done within the next epoch
    best: dict
    running_loss: float = 0.0


def save_checkpoint(
    path: Path,
    model: torch.nn.Module,
    optim: Any,
    sched: Any,
    epoch: int,
    best: dict,
    step: int = 0,
    running_loss: float = 0.0,
) -> None:
    """Write atomically (temporary file, then rename): an interrupted save never spoils the last one."""
    tmp = Path(path).with_suffix(".tmp")
    torch.save(
        {
            "model": model.state_dict(),
            "optim": optim.state_dict(),
            "sched": sched.state_dict(),
            "epoch": epoch,
            "step": step,
            "running_loss": running_loss,
            "best": best,
            "py_rng": random.getstate(),
            "torch_rng": torch.get_rng_state(),
        },
        tmp,
    )
    os.replace(tmp, path)


def resume(path: Path, model: torch.nn.Module, optim: Any, sched: Any, best: dict) -> ResumeState:
    """Restore state from `path` if it exists."""
    if not Path(path).exists():
        return ResumeState(0, 0, best)
    ckpt = torch.load(path, weights_only=False)
    model.load_state_dict(ckpt["model"])
    optim.load_state_dict(ckpt["optim"])
    sched.load_state_dict(ckpt["sched"])
    random.setstate(ckpt["py_rng"])
    torch.set_rng_state(ckpt["torch_rng"])
    return ResumeState(ckpt["epoch"], ckpt.get("step", 0), ckpt["best"], ckpt.get("running_loss", 0.0))
