"""The README's module table lists every module of the function's package, and only modules that exist.

A module counts as listed when its path under `functions/machbot_fn/` (e.g. `sharing/pool_index.py`)
is in backticks in the table's module column. Modules are the tracked ones (`git ls-files`), so a
file still being written in a shared checkout does not fail the suite before it is committed.
"""

from __future__ import annotations

import re
import subprocess

from machbot.paths import ROOT

PACKAGE = "functions/machbot_fn/"
HEADER = "| concern | module (under `functions/machbot_fn/`) |"
SUBPACKAGE_PATH = re.compile(r"^(serving|models|sharing|admin)/\w+\.py$")


def table_modules() -> set[str]:
    """Every backticked name in the module column of the README's module table."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index(HEADER)
    names: set[str] = set()
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        module_column = line.rstrip(" |").rsplit("|", 1)[-1]
        names.update(re.findall(r"`([^`]+)`", module_column))
    return names


def package_modules() -> set[str]:
    """The package's modules, relative to functions/machbot_fn/ (`errors.py`, `serving/pipeline.py`, ...)."""
    out = subprocess.run(["git", "ls-files", PACKAGE], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    paths = (path.removeprefix(PACKAGE) for path in out.splitlines())
    return {path for path in paths if path.endswith(".py") and not path.endswith("__init__.py")}


def test_every_module_is_in_the_readme_table() -> None:
    modules = package_modules()
    assert "serving/pipeline.py" in modules  # the listing found the package
    missing = sorted(modules - table_modules())
    assert not missing, f"add these modules to the README's module table: {missing}"


def test_the_table_names_no_module_that_is_gone() -> None:
    listed = {name for name in table_modules() if SUBPACKAGE_PATH.match(name)}
    gone = sorted(listed - package_modules())
    assert not gone, f"the README's module table names modules that do not exist: {gone}"
