"""Where the project keeps what training reads and writes, relative to the checkout."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_ROOT = REPO / "models" / "defaults"  # the committed default models
RUNS = REPO / "runs"  # training runs (logs, checkpoints); --runs puts them elsewhere
BUILD = REPO / "build" / "registry"  # exports and rebuilt artefacts, never committed
