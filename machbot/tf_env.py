"""The optional TensorFlow environment (.venv-tf) that `machbot import-tf` runs in.

TensorFlow 2.21 with transformers 4.57 (the last release with TF model classes) cannot share
`.venv`, whose training stack uses transformers 5. So `.venv/bin/machbot import-tf` re-runs itself
with `.venv-tf/bin/python` (installed by `make tf-setup`); inside .venv-tf it runs directly.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path

from machbot.paths import ROOT

TF_VENV = ROOT / ".venv-tf"
INSTALL_COMMAND = "make tf-setup"


def tensorflow_here() -> bool:
    """Whether this interpreter can import TensorFlow (checked without importing it)."""
    return importlib.util.find_spec("tensorflow") is not None


def tf_python() -> Path | None:
    """The TF environment's interpreter: $MACHBOT_TF_PYTHON, else .venv-tf/bin/python; None if missing."""
    path = Path(os.environ.get("MACHBOT_TF_PYTHON") or TF_VENV / "bin" / "python")
    return path if path.is_file() and os.access(path, os.X_OK) else None


def run_in_tf_env(python: Path, cli_args: list[str]) -> int:
    """Run `machbot <cli_args>` with the TF environment's interpreter; returns its exit code."""
    return subprocess.run([str(python), "-m", "machbot.cli", *cli_args], check=False).returncode
