"""A T5 version that ships a reply pool answers with a person's reply, never one of the opposite polarity;
a version that refines serves its rewrite of that reply.

The pool is built here from the tiny embedder that serves the tests, so the function's query vectors and
the pool's are of one embedder; the replies' emotions are set so that every polarity is on offer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from emulator import User, deliver_created_event, wait_final
from google.cloud import firestore

from machbot_fn.admin.publish import publish_version
from machbot_fn.labels import EMOTIONS, REPLIER_ID
from machbot_fn.models.classifier import Emotion, EmotionClassifier
from machbot_fn.models.embedder import SentenceEmbedder
from machbot_fn.models.manifest import PROMPT_RETRIEVED
from machbot_fn.models.replier import Replier
from machbot_fn.models.reply_pool import POOL_FILE, PoolArrays, avoided_polarities, polarity
from machbot_fn.serving.reply import draft
from machbot_train.reply_pool import add_pool_to_version
from machbot_train.version_dir import copy_version, read_manifest, update_generation

POOL_VERSION = "tiny-pool"
MESSAGES = (
    "I lost my keys again today",
    "We won the cup last night",
    "My cat is sick and I am worried",
    "I finally finished the big project",
    "Nobody came to my party",
    "I love the new flat so much",
)
# Six replies per message, one of each emotion: whatever the tiny classifier reads, some are ruled out.
REPLIES = {
    "sadness": "That sounds really hard, I am sorry.",
    "joy": "That is wonderful news, well done!",
    "love": "You two sound lovely together.",
    "anger": "That would make me so angry too.",
    "fear": "That sounds frightening, are you safe?",
    "surprise": "Wow, I did not expect that at all.",
}


def build_pool_version(
    t5_dir: Path, embedder_dir: Path, root: Path, version: str = POOL_VERSION
) -> tuple[Path, dict[str, str]]:
    """A copy of the tiny T5 named `version`, with a pool of 36 rows; returns it and each reply's emotion."""
    embedder = SentenceEmbedder(read_manifest(embedder_dir), embedder_dir)
    messages, replies, message_emotions, reply_emotions = [], [], [], []
    for i, message in enumerate(MESSAGES):
        for label, reply in REPLIES.items():
            messages.append(message)
            replies.append(f"{reply} ({i})")
            message_emotions.append(EMOTIONS[i % len(EMOTIONS)])
            reply_emotions.append(label)
    arrays = PoolArrays.from_vectors(
        embedder.embed(messages),
        replies,
        embedder.embed(replies),
        message_emotions,
        reply_emotions,
        [0.9] * len(replies),
        embedder=embedder.manifest.versioned_id,
        classifier="tiny@test",
    )
    target = copy_version(t5_dir, root, version)
    arrays.save(target / POOL_FILE)
    add_pool_to_version(target, target / POOL_FILE, {"rows": len(replies), "data": "built by this test"})
    return target, dict(zip(replies, reply_emotions, strict=True))


def replied_by(db, user: User, version: str, text: str, within: float = 15.0) -> tuple[str, dict]:
    """Send `text` until a reply comes from the T5 `version` (CURRENT is re-read every second here);
    the message's path and document."""
    deadline = time.monotonic() + within
    seen = []
    while time.monotonic() < deadline:
        path = user.send(text)
        doc = wait_final(db, path)
        assert doc["status"]["state"] == "done", doc.get("error")
        seen.append(doc["reply"]["model"]["version"])
        if seen[-1] == version:
            return path, doc
    raise AssertionError(f"no reply from {REPLIER_ID} {version} within {within:.0f} s; replies came from {seen}")


@pytest.fixture(scope="module")
def pool_version(db, bucket, published, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The pool version published and CURRENT for the module; the plain tiny T5 serves again afterwards."""
    target, emotions = build_pool_version(
        published[REPLIER_ID], published["minilm"], tmp_path_factory.mktemp("pool-version")
    )
    publish_version(bucket, db, target)
    yield emotions
    publish_version(bucket, db, published[REPLIER_ID])
    replied_by(db, User.sign_up(), read_manifest(published[REPLIER_ID]).version, "back to the plain replier")


def test_a_pool_version_replies_with_a_human_reply_of_a_compatible_polarity(
    db, user: User, pool_version: dict[str, str]
) -> None:
    for text in MESSAGES:
        _, doc = replied_by(db, user, POOL_VERSION, text)
        reply = doc["reply"]
        assert reply["source"] == "pool" and reply["generated"] is True
        assert reply["text"] in pool_version, reply["text"]
        assert reply["contextTurns"] == 0  # the pool reads no history
        emotion = doc["emotion"]
        label = "neutral" if emotion["unsure"] else emotion["label"]
        avoid = avoided_polarities(label, emotion["scores"])
        assert polarity(pool_version[reply["text"]]) not in avoid, (text, emotion, reply["text"])
        assert doc["servedBy"]["replier"] == {"id": REPLIER_ID, "version": POOL_VERSION}


def test_a_message_answered_again_gets_the_same_pool_reply(db, user: User, pool_version: dict[str, str]) -> None:
    path, first = replied_by(db, user, POOL_VERSION, MESSAGES[2])
    # As after a worker died mid-answer: processing, lease expired, no answer on the document.
    past = datetime.now(UTC) - timedelta(minutes=1)
    db.document(path).update(
        {"status": {"state": "processing", "attempt": 1, "leaseUntil": past}, "reply": firestore.DELETE_FIELD}
    )
    assert deliver_created_event(path).status_code < 300
    again = wait_final(db, path)
    assert again["status"]["attempt"] == 2
    assert again["reply"]["text"] == first["reply"]["text"] and again["reply"]["source"] == "pool"


REFINING_VERSION = "tiny-refining"


@pytest.fixture(scope="module")
def refining_version(db, bucket, published, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The pool version declared as a T5 that refines (retrieve-and-refine), published and CURRENT."""
    root = tmp_path_factory.mktemp("refining-version")
    target, _ = build_pool_version(published[REPLIER_ID], published["minilm"], root, REFINING_VERSION)
    update_generation(target, {"prompt": PROMPT_RETRIEVED})
    publish_version(bucket, db, target)
    yield target
    publish_version(bucket, db, published[REPLIER_ID])
    replied_by(db, User.sign_up(), read_manifest(published[REPLIER_ID]).version, "back to the plain replier")


def test_a_refining_version_serves_its_rewrite_of_the_pools_reply(
    db, user: User, published, refining_version: Path
) -> None:
    """What the function wrote is exactly what `draft` gives here for the same message, emotion and
    embedding: the pool's reply, rewritten by the T5 reading it, unless the rewrite does not fit."""
    replier = Replier(read_manifest(refining_version), refining_version)
    embedder = SentenceEmbedder(read_manifest(published["minilm"]), published["minilm"])
    classifier = EmotionClassifier(read_manifest(published["bert"]), published["bert"])
    sources = set()
    for text in MESSAGES:
        path, doc = replied_by(db, user, REFINING_VERSION, text)
        e = doc["emotion"]
        emotion = Emotion(e["label"], e["score"], e["scores"], e["unsure"])
        expected = draft(
            replier, text, emotion, embedder(text), embedder.manifest.versioned_id, path, lambda: [], classifier
        )
        reply = doc["reply"]
        assert (reply["text"], reply["source"]) == (expected.text, expected.source), text
        sources.add(reply["source"])
    assert sources <= {"refined", "pool"}
