"""Canary and shadow routing: the ROUTING file, the sticky per-user split, and the registry serving it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from memory_bucket import Clock, MemoryBucket
from tiny_onnx import tiny_classifier

from machbot_fn.admin.publish import publish_version, set_routing
from machbot_fn.errors import ManifestError
from machbot_fn.models.registry import ModelRegistry, routing_path
from machbot_fn.models.routing import CANARY, NO_ROUTING, PRIMARY, Routing, in_canary, parse_routing, user_bucket


def test_no_file_means_no_canary_and_no_shadow() -> None:
    assert parse_routing(None) == parse_routing(b"") == parse_routing(b"{}") == NO_ROUTING


def test_a_routing_file_round_trips() -> None:
    routing = Routing("v2", 12.5, "v3")
    assert parse_routing(json.dumps(routing.to_dict())) == routing


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("not json", "not valid JSON"),
        ('{"canary": {"version": "v2", "percent": 101}}', "0 to 100"),
        ('{"canary": {"version": "v2", "percent": true}}', "0 to 100"),
        ('{"canary": {"version": "../x", "percent": 5}}', "version name"),
        ('{"shadow": {}}', "version name"),
        ('{"canary": {"version": "v2", "percent": 5}, "extra": 1}', "only 'canary'"),
    ],
)
def test_a_bad_routing_file_is_refused_with_the_reason(raw: str, why: str) -> None:
    with pytest.raises(ManifestError, match=why):
        parse_routing(raw)


def test_the_split_is_sticky_and_close_to_the_share() -> None:
    routing = Routing("v2", 20.0)
    users = [f"user-{i}" for i in range(5000)]
    chosen = [in_canary(routing, "bert", u) for u in users]
    assert chosen == [in_canary(routing, "bert", u) for u in users]  # the same users every time
    assert 0.18 < sum(chosen) / len(users) < 0.22
    assert not in_canary(routing, "bert", None) and not in_canary(Routing("v2", 0.0), "bert", "user-1")
    assert all(in_canary(Routing("v2", 100.0), "bert", u) for u in users[:100])


def test_a_new_candidate_draws_a_new_sample_of_users() -> None:
    users = [f"user-{i}" for i in range(2000)]
    first = {u for u in users if user_bucket(u, "bert", "v2") < 10}
    second = {u for u in users if user_bucket(u, "bert", "v3") < 10}
    assert len(first & second) < len(first) / 2


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("routing")
    return {v: tiny_classifier(root, "bert", v) for v in ("v1", "v2", "v3")}


@pytest.fixture
def bucket(versions: dict[str, Path]) -> MemoryBucket:
    bucket = MemoryBucket()
    publish_version(bucket, None, versions["v1"])
    for v in ("v2", "v3"):
        publish_version(bucket, None, versions[v], promote=False)
    return bucket


def test_the_registry_routes_canary_users_and_loads_the_shadow(bucket, tmp_path) -> None:
    set_routing(bucket, None, "bert", tmp_path / "verify", canary=("v2", 50.0), shadow="v3")
    registry = ModelRegistry(bucket, tmp_path / "cache", recheck_seconds=5, clock=Clock())
    routes = {u: registry.route("bert", u) for u in (f"user-{i}" for i in range(40))}
    for user, route in routes.items():
        expected = in_canary(Routing("v2", 50.0), "bert", user)
        assert (route.role, route.model.version) == ((CANARY, "v2") if expected else (PRIMARY, "v1"))
        assert route.shadow is not None and route.shadow.version == "v3"
    assert 10 < sum(r.role == CANARY for r in routes.values()) < 30


def test_routing_changes_apply_after_the_recheck_and_unused_candidates_leave_memory(bucket, tmp_path) -> None:
    clock = Clock()
    registry = ModelRegistry(bucket, tmp_path / "cache", recheck_seconds=5, clock=clock)
    assert registry.route("bert", "u").shadow is None
    set_routing(bucket, None, "bert", tmp_path / "verify", shadow="v3")
    clock.now += 6
    assert registry.route("bert", "u").shadow.version == "v3"
    set_routing(bucket, None, "bert", tmp_path / "verify", clear_shadow=True)
    clock.now += 6
    assert registry.route("bert", "u").shadow is None
    assert registry._entry("bert").candidates == {}


def test_a_corrupt_candidate_is_refused_and_current_keeps_answering(bucket, tmp_path) -> None:
    refused: list[tuple] = []
    name = "models/bert/v2/model.onnx"
    bucket.files[name] = bucket.files[name][:-1] + bytes([bucket.files[name][-1] ^ 0xFF])
    # Written by hand: the CLI would refuse to route to a corrupt version in the first place.
    bucket.files[routing_path("bert")] = json.dumps({"canary": {"version": "v2", "percent": 100}}).encode()
    registry = ModelRegistry(bucket, tmp_path / "cache", on_refused=lambda *a: refused.append(a))
    route = registry.route("bert", "anyone")
    assert (route.role, route.model.version) == (PRIMARY, "v1")
    assert refused and refused[0][:2] == ("bert", "v2") and "checksum" in refused[0][2]


def test_a_malformed_routing_file_is_ignored(bucket, tmp_path) -> None:
    bucket.files[routing_path("bert")] = b"{broken"
    route = ModelRegistry(bucket, tmp_path / "cache").route("bert", "u")
    assert (route.role, route.model.version, route.shadow) == (PRIMARY, "v1", None)


def test_set_routing_refuses_bad_candidates(bucket, tmp_path) -> None:
    with pytest.raises(ManifestError, match="CURRENT already"):
        set_routing(bucket, None, "bert", tmp_path, shadow="v1")
    with pytest.raises(ManifestError, match="no manifest"):
        set_routing(bucket, None, "bert", tmp_path, canary=("v9", 10.0))
    with pytest.raises(ManifestError, match="0-100"):
        set_routing(bucket, None, "bert", tmp_path, canary=("v2", 150.0))
    assert routing_path("bert") not in bucket.files
