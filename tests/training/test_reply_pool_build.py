"""Building the reply pool: which replies a person would accept, the size cap, and shipping the pool in a
replier version (listed in the manifest with its sha256, readable by the serving side)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from machbot_fn.labels import EMOTIONS, NEUTRAL
from machbot_fn.models.classifier import EmotionClassifier
from machbot_fn.models.embedder import SentenceEmbedder
from machbot_fn.models.reply_pool import POOL_FILE, ReplyPool
from machbot_train.embedder import build_tiny_embedder
from machbot_train.reply_pairs import ReplyPair
from machbot_train.reply_pool import (
    PoolRow,
    PoolStats,
    add_pool_to_version,
    build_pool_arrays,
    cap_groups,
    clean_reply,
    rejection,
    select_rows,
    subsample,
)
from machbot_train.tiny_models import build_tiny_classifier, build_tiny_replier
from machbot_train.version_dir import copy_version, read_manifest, verify_files


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        ("That sounds wonderful, congratulations!", None),
        ("I miss you too.", None),
        ("Ok", "not 2-40 words"),
        ("word " * 41, "not 2-40 words"),
        ("555 1234", "no letters"),
        ("Yeah, okay.", "backchannel only"),
        ("What? Really?", "backchannel only"),
        ("Oh my god!", "backchannel only"),
        ("Ross, you have to see this.", "a character's name"),
        ("i told joey already", "a character's name"),
        ("Thanks, Gunther, just the coffee.", "a character's name"),
        ("Yes, sir. Right away.", "a form of address"),
        ("Good morning, Mr. Smith.", "a form of address"),
        ("Miss Lee will see you now.", "a form of address"),
        ("Because the bus was late.", "continues unseen context"),
        ("And then what did she say?", "continues unseen context"),
        ("But I thought you liked it!", "continues unseen context"),
        ("That is some bullshit right there", None),  # only whole swear words count
        ("What the fuck is that?", "swearing"),
    ],
)
def test_what_a_person_would_accept(reply: str, why: str | None) -> None:
    assert rejection(clean_reply(reply)) == why


def test_clean_reply_reads_as_served() -> None:
    assert clean_reply("that's right.Move along, i think") == "That's right. Move along, I think"
    assert clean_reply("I'Ve never seen it.") == "I've never seen it."
    assert clean_reply("I am sorry to hear that.is there a chance?") == "I am sorry to hear that. Is there a chance?"
    assert clean_reply("we're gon na win, you wan na bet? got ta go") == "We're gonna win, you wanna bet? Gotta go"
    assert clean_reply("see example.com now") == "See example.com now"


def pair(message: str, reply: str, emotion: str = "joy", corpus: str = "empathetic") -> ReplyPair:
    return ReplyPair("c", corpus, (), message, emotion, reply)


def test_select_rows_filters_and_deduplicates() -> None:
    stats = PoolStats()
    rows = select_rows(
        [
            pair("I won!", "That is amazing, well done!"),
            pair("I passed!", "that is AMAZING well done"),  # the same reply, normalised
            pair("hi", "ok"),
            pair("I lost my keys", "Oh no, where did you last see them?", "sadness"),
        ],
        stats,
    )
    assert [r.reply for r in rows] == ["That is amazing, well done!", "Oh no, where did you last see them?"]
    assert stats.pairs == 4 and stats.kept == 2 and stats.duplicates == 1 and stats.rejected["not 2-40 words"] == 1


def test_cap_groups_cuts_the_largest_first() -> None:
    assert cap_groups({"neutral": 1000, "joy": 100, "love": 10}, 410) == 300
    assert cap_groups({"neutral": 5, "joy": 5}, 100) == 5
    groups = {"neutral": list(range(100)), "love": list(range(100, 105))}
    kept = subsample(groups, 20, seed=1)
    assert len(kept) == 25 and set(range(100, 105)) <= set(kept) and kept == sorted(kept)
    assert subsample(groups, 20, seed=1) == kept


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("registry")
    return {
        "classifier": build_tiny_classifier(root, "bert", "bert", "tiny-1"),
        "embedder": build_tiny_embedder(root),
        "t5": build_tiny_replier(root, "tiny-1"),
        "root": root,
    }


def pool_rows(n: int) -> list[PoolRow]:
    labels = (*EMOTIONS, NEUTRAL)
    return [
        PoolRow(
            f"message number {i} about {labels[i % 7]}", labels[i % 7] if i < n // 2 else NEUTRAL, f"reply {i}", "x"
        )
        for i in range(n)
    ]


def test_pool_arrays_round_trip_and_the_size_cap(tiny: dict[str, Path], tmp_path: Path) -> None:
    classifier = EmotionClassifier(read_manifest(tiny["classifier"]), tiny["classifier"])
    embedder = SentenceEmbedder(read_manifest(tiny["embedder"]), tiny["embedder"])
    rows = pool_rows(400)
    stats = PoolStats()
    arrays = build_pool_arrays(rows, embedder, classifier, stats=stats)
    assert stats.rows == len(arrays) == 400 and stats.cap is None
    arrays.save(tmp_path / POOL_FILE)
    pool = ReplyPool.load(tmp_path / POOL_FILE)
    assert pool.embedder == "minilm@tiny-1" and pool.classifier == "bert@tiny-1"
    assert sum(pool.counts().values()) == 400
    at = int(np.flatnonzero(pool.rows == 3)[0])  # file row 3, wherever the pool keeps it
    assert pool.replies[at] == "reply 3"
    assert float(pool.vectors[at] @ embedder.embed([rows[3].message])[0]) > 0.99  # int8 keeps the vectors
    assert float(pool.reply_vectors[at] @ embedder.embed(["reply 3"])[0]) > 0.99
    assert pool.candidates(embedder.embed([rows[3].message])[0], NEUTRAL)

    capped_stats = PoolStats()
    capped = build_pool_arrays(rows, embedder, classifier, max_bytes=int(stats.bytes * 0.7), stats=capped_stats)
    assert capped_stats.bytes <= stats.bytes * 0.7 and len(capped) < 400
    assert capped_stats.by_emotion["love"] == stats.by_emotion["love"]  # rare groups kept whole
    assert capped_stats.by_emotion[NEUTRAL] < stats.by_emotion[NEUTRAL]  # the largest thinned first


def test_the_pool_ships_in_a_copy_of_the_replier_version(tiny: dict[str, Path], tmp_path: Path) -> None:
    classifier = EmotionClassifier(read_manifest(tiny["classifier"]), tiny["classifier"])
    embedder = SentenceEmbedder(read_manifest(tiny["embedder"]), tiny["embedder"])
    stats = PoolStats()
    build_pool_arrays(pool_rows(50), embedder, classifier, stats=stats).save(tmp_path / POOL_FILE)
    before = (tiny["t5"] / "manifest.json").read_text()
    copy = copy_version(tiny["t5"], tmp_path / "out", "tiny-2")
    manifest = add_pool_to_version(copy, tmp_path / POOL_FILE, stats.to_dict())
    assert (tiny["t5"] / "manifest.json").read_text() == before  # the published version is untouched
    assert copy == tmp_path / "out" / "t5" / "tiny-2" and manifest.version == "tiny-2"
    assert POOL_FILE in manifest.files and verify_files(copy) == []
    assert set(manifest.files) == set(read_manifest(tiny["t5"]).files) | {POOL_FILE}
    data = json.loads((copy / "manifest.json").read_text())
    assert data["provenance"]["copied_from"] == "t5@tiny-1"
    assert data["provenance"]["reply_pool"]["rows"] == 50 and data["provenance"]["reply_pool"]["file"] == POOL_FILE
    assert np.isclose(
        ReplyPool.load(copy / POOL_FILE).vectors[0] @ ReplyPool.load(tmp_path / POOL_FILE).vectors[0], 1.0
    )
    with pytest.raises(ValueError, match="not a replier"):
        add_pool_to_version(tiny["classifier"], tmp_path / POOL_FILE, {})


def cli(*args: str) -> tuple[int, str]:
    """The exit code and stderr (its lines joined: the console wraps long ones) of a CLI call."""
    done = subprocess.run([sys.executable, "-m", "machbot.cli", *args], capture_output=True, text=True, timeout=300)
    return done.returncode, " ".join(done.stderr.split())


def test_cli_mistakes_are_one_line_errors(tiny: dict[str, Path], tmp_path: Path) -> None:
    code, err = cli("build-pool", str(tmp_path / "nowhere"))
    assert code == 2 and err.startswith("error: T5_DIR") and err.endswith("pass an exported version directory")
    classifier = str(tiny["classifier"])
    code, err = cli("build-pool", classifier, "--classifier", classifier, "--embedder", str(tiny["embedder"]))
    assert code == 2 and "is a text-classification model, not a replier" in err and "Traceback" not in err
    code, err = cli("evaluate", "--replier", "--pool", str(tmp_path / "none.npz"))
    assert code == 2 and err.endswith("none.npz does not exist")
