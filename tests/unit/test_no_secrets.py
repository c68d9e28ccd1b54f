"""No credentials in the repository or in the built web app.

Scans every tracked file (`git ls-files`) and, when it exists, `webapp/dist` for private key blocks,
service-account key JSON, Google API keys and files named like downloaded admin keys. The local
stack needs none of these (the emulators take any token; the web app's emulator build uses a fake
key). A test fixture that must hold such a string is listed in ALLOWED with the reason.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "webapp" / "dist"

# path relative to the repository -> why it may contain a secret-shaped string (none today)
ALLOWED: dict[str, str] = {}

PATTERNS = {
    "a private key block": re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"),
    "a Google API key": re.compile(rb"AIza[0-9A-Za-z_\-]{35}"),
}
SERVICE_ACCOUNT_TYPE = re.compile(rb'"type"\s*:\s*"service_account"')
PRIVATE_KEY_FIELD = re.compile(rb'"private_key"\s*:')
KEY_FILE_NAMES = ("*service-account*.json", "*-firebase-adminsdk-*.json")


def findings(relative: str, data: bytes) -> list[str]:
    """What in one file looks like a credential (empty when nothing does)."""
    found = []
    name = Path(relative).name.lower()
    if any(fnmatch.fnmatch(name, pattern) for pattern in KEY_FILE_NAMES):
        found.append(f"{relative}: named like a service-account key file")
    for what, pattern in PATTERNS.items():
        match = pattern.search(data)
        if match:
            line = data.count(b"\n", 0, match.start()) + 1
            found.append(f"{relative}:{line}: {what}")
    if SERVICE_ACCOUNT_TYPE.search(data) and PRIVATE_KEY_FIELD.search(data):
        found.append(f"{relative}: a service-account key (type service_account with a private_key)")
    return found


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def scan(root: Path, relatives: list[str]) -> list[str]:
    problems = []
    for relative in relatives:
        path = root / relative
        if relative in ALLOWED or not path.is_file() or path.is_symlink():
            continue  # allowed, or deleted in the work tree but not yet committed
        problems += findings(relative, path.read_bytes())
    return problems


def test_no_tracked_file_holds_a_credential() -> None:
    files = tracked_files()
    assert len(files) > 10, "git ls-files listed (almost) nothing: is this a checkout?"
    problems = scan(ROOT, files)
    assert not problems, "credentials in tracked files:\n  " + "\n  ".join(problems)


def test_the_built_web_app_holds_no_credential() -> None:
    if not DIST.is_dir():
        pytest.skip("webapp/dist is not built")
    relatives = [str(p.relative_to(ROOT)) for p in DIST.rglob("*") if p.is_file()]
    problems = scan(ROOT, relatives)
    assert not problems, "credentials in the built web app:\n  " + "\n  ".join(problems)


def test_every_allowlisted_file_exists_and_says_why() -> None:
    tracked = set(tracked_files())
    for relative, reason in ALLOWED.items():
        assert relative in tracked, f"{relative} is allowlisted but not tracked"
        assert reason.strip(), f"{relative} is allowlisted without a reason"


# Samples are assembled at run time so that this file itself holds none of them.
KEY_HEADER = "-----BEGIN " + "PRIVATE KEY-----"
SAMPLES = {
    "pem": ("config/key.pem", f"{KEY_HEADER}\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----\n", "a private key block"),
    "rsa": ("id_rsa", "-----BEGIN RSA " + "PRIVATE KEY-----\nabc\n", "a private key block"),
    "openssh": ("deploy_key", "-----BEGIN OPENSSH " + "PRIVATE KEY-----\nabc\n", "a private key block"),
    "api key": (
        "webapp/.env.production",
        "VITE_FIREBASE_API_KEY=" + "AIza" + "Sy" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
        "API key",
    ),
    "service account": (
        "creds.json",
        '{"type": "service' + '_account", "project_id": "p", "private_key": "x"}',
        "service-account key",
    ),
    "admin sdk name": ("machbot-prod-firebase-adminsdk-abc12-0123456789.json", "{}", "named like"),
    "service account name": ("ci/Service-Account.json", "{}", "named like"),
}


@pytest.mark.parametrize("kind", SAMPLES)
def test_the_scanner_finds_each_kind(kind: str) -> None:
    relative, content, expected = SAMPLES[kind]
    problems = findings(relative, content.encode())
    assert any(expected in p for p in problems), problems


def test_the_scanner_passes_ordinary_text() -> None:
    ordinary = b'{"type": "classifier", "apiKey": "fake-api-key", "note": "BEGIN PUBLIC KEY"}'
    assert findings("manifest.json", ordinary) == []
