"""The triggers' deploy-time params all have values in functions/.env.

`firebase deploy` prompts for a param that has no value, and fails when it cannot prompt (CI); the
emulator too. The manifest is read as firebase-tools reads it: the SDK's own discovery of
functions/main.py, in the function's runtime, in a process of its own (a param can be declared
only once per process).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
DISCOVER = """
import json, yaml
from firebase_functions.private.serving import functions_as_yaml, get_functions
print(json.dumps(yaml.safe_load(functions_as_yaml(get_functions()))))
"""


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    env = {
        **os.environ,
        "FIREBASE_CONFIG": json.dumps({"projectId": "demo-machbot", "storageBucket": "demo-machbot.appspot.com"}),
        "PYTHONPATH": str(FUNCTIONS),
    }
    out = subprocess.run(
        [str(FUNCTIONS / "venv" / "bin" / "python"), "-c", DISCOVER],
        cwd=FUNCTIONS,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    found: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return found


def dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments skipped."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def test_every_declared_param_has_a_value_of_its_type_in_dotenv(manifest: dict[str, Any]) -> None:
    declared = {p["name"]: p["type"] for p in manifest["params"]}
    assert declared, "main.py declares no params"
    values = dotenv(FUNCTIONS / ".env")
    missing = sorted(set(declared) - set(values))
    assert not missing, f"params without a value in functions/.env: {missing}"
    for name, kind in declared.items():
        if kind == "int":
            assert values[name].isdigit(), f"{name}={values[name]!r} is not an int"


def test_the_emulator_overrides_only_declared_params(manifest: dict[str, Any]) -> None:
    declared = {p["name"] for p in manifest["params"]}
    assert set(dotenv(FUNCTIONS / ".env.local")) <= declared


def test_the_message_trigger_scales_by_its_params(manifest: dict[str, Any]) -> None:
    endpoint = manifest["endpoints"]["on_message_created"]
    assert endpoint["minInstances"] == "{{ params.MESSAGE_MIN_INSTANCES }}"
    assert endpoint["maxInstances"] == "{{ params.MESSAGE_MAX_INSTANCES }}"
    assert endpoint["concurrency"] == "{{ params.MESSAGE_CONCURRENCY }}"
