#!/usr/bin/env bash
# The type checker (mypy, configured in pyproject.toml), run by scripts/test.sh before the tests.
#   functions/ (the triggers and machbot_fn): strict, against the function's own runtime (functions/venv)
#   machbot/, training/ and scripts/: default mode (machbot_fn, which they import, is held to strict there too)
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/mypy --cache-dir .mypy_cache/function --strict --python-executable functions/venv/bin/python functions/main.py functions/machbot_fn
.venv/bin/mypy --cache-dir .mypy_cache/rest machbot training/machbot_train scripts/message_path.py
