"""Where things are in a machbot checkout."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLING = ROOT / ".emulators"  # set-up outputs: jars, stamps, generated env (gitignored)
EMULATOR_DATA = ROOT / ".emulator-data"  # chats and published models kept between runs
DEFAULT_MODELS = ROOT / "models" / "defaults"  # the shipped int8 models, one version per id
TINY_MODELS = TOOLING / "tiny-models"  # untrained stand-ins for ids with no shipped model
EMBEDDER_BUILD = ROOT / "build" / "embedder"  # MiniLM exported from its PyPI package (not committed)
WEBAPP = ROOT / "webapp"
PROJECT = "demo-machbot"
BUCKET = f"{PROJECT}.appspot.com"
