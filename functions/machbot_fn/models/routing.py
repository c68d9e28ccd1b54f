"""Canary and shadow: which version of a model answers a given user, and which one only watches.

A researcher writes `models/<id>/ROUTING` next to CURRENT (the `machbot models canary|shadow`
commands do), for example `{"canary": {"version": "v2", "percent": 10}, "shadow": {"version": "v3"}}`:

- canary: that share of users is answered by the candidate instead of CURRENT. The split is sticky:
  a user's bucket is a hash of (user, model, candidate version), so one person does not flip between
  versions from one message to the next, and a new candidate draws a fresh sample of users;
- shadow: the candidate also classifies every message after the answer is written; its result is
  recorded for researchers (`shadowResults`, per-version stats) and never shown to the user.

The file is read with CURRENT, on the same re-check interval, so a change applies within seconds.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from machbot_fn.errors import ManifestError
from machbot_fn.models.manifest import VERSION

PRIMARY, CANARY, SHADOW = "primary", "canary", "shadow"


@dataclass(frozen=True)
class Routing:
    canary_version: str | None = None
    canary_percent: float = 0.0
    shadow_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.canary_version:
            out["canary"] = {"version": self.canary_version, "percent": self.canary_percent}
        if self.shadow_version:
            out["shadow"] = {"version": self.shadow_version}
        return out


NO_ROUTING = Routing()


def _version(section: Any, what: str) -> str:
    version = section.get("version") if isinstance(section, dict) else None
    if not isinstance(version, str) or not VERSION.match(version):
        raise ManifestError(f"ROUTING: {what}.version must be a version name, got {version!r}")
    return version


def parse_routing(raw: bytes | str | None) -> Routing:
    """Parse a ROUTING file; None or empty means no canary and no shadow."""
    if raw is None or not raw.strip():
        return NO_ROUTING
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"ROUTING is not valid JSON ({exc.msg})") from exc
    if not isinstance(data, dict) or set(data) - {"canary", "shadow"}:
        raise ManifestError("ROUTING must be an object with only 'canary' and/or 'shadow'")
    canary, percent = None, 0.0
    if data.get("canary") is not None:
        canary = _version(data["canary"], "canary")
        percent = data["canary"].get("percent")
        if isinstance(percent, bool) or not isinstance(percent, int | float) or not 0 <= percent <= 100:
            raise ManifestError(f"ROUTING: canary.percent must be a number from 0 to 100, got {percent!r}")
    shadow = _version(data["shadow"], "shadow") if data.get("shadow") is not None else None
    return Routing(canary, float(percent), shadow)


def user_bucket(user_id: str, model_id: str, version: str) -> float:
    """A stable number in [0, 100) for this user and candidate: the same user always lands in the same place."""
    digest = hashlib.sha256(f"{model_id}\0{version}\0{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100


def in_canary(routing: Routing, model_id: str, user_id: str | None) -> bool:
    """Whether `user_id`'s messages to `model_id` go to the canary version."""
    if not routing.canary_version or routing.canary_percent <= 0 or not user_id:
        return False
    return user_bucket(user_id, model_id, routing.canary_version) < routing.canary_percent
