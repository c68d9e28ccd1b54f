"""serving.reply: the pool's human reply when it can answer, the T5 otherwise, with a tiny real T5 and pool."""

from __future__ import annotations

import numpy as np
import pytest

from machbot_fn.labels import EMOTIONS
from machbot_fn.models.classifier import Emotion
from machbot_fn.models.manifest import PROMPT_RETRIEVED
from machbot_fn.models.replier import Replier, build_prompt, tidy
from machbot_fn.models.reply_pool import POOL_FILE, PoolArrays
from machbot_fn.serving.reply import FIXED, MODEL, POOL, REFINED, draft, from_pool, reply_emotion
from machbot_train.reply_pool import add_pool_to_version
from machbot_train.tiny_models import build_tiny_replier
from machbot_train.version_dir import copy_version, read_manifest, update_generation

DIM = 8
EMBEDDER = "minilm@unit"
REPLIES = {label: f"A reply read as {label}." for label in EMOTIONS}


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def repliers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Replier]:
    """The tiny T5 without a pool, and a copy with a pool of six replies, one of each emotion."""
    root = tmp_path_factory.mktemp("reply-choice")
    plain = build_tiny_replier(root)
    pooled = copy_version(plain, root, "with-pool")
    rng = np.random.default_rng(3)
    # Close to the queries below (all-ones): every row is about as good, so the seed decides among the best.
    vectors = unit(1 + 0.02 * rng.standard_normal((len(EMOTIONS), DIM)))
    PoolArrays.from_vectors(
        vectors,
        list(REPLIES.values()),
        vectors,
        ["neutral"] * len(EMOTIONS),
        list(REPLIES),
        [0.9] * len(EMOTIONS),
        embedder=EMBEDDER,
        classifier="tiny@unit",
    ).save(pooled / POOL_FILE)
    add_pool_to_version(pooled, pooled / POOL_FILE, {"data": "unit test"})
    # The same weights declared as trained to retrieve and refine (the prompt then carries the pool's reply).
    refining = copy_version(pooled, root, "refining")
    update_generation(refining, {"prompt": PROMPT_RETRIEVED})
    return {
        name: Replier(read_manifest(path), path)
        for name, path in (("plain", plain), ("pooled", pooled), ("refining", refining))
    }


def emotion(label: str, score: float = 0.9, unsure: bool = False) -> Emotion:
    rest = (1 - score) / (len(EMOTIONS) - 1)
    return Emotion(label, score, {e: score if e == label else rest for e in EMOTIONS}, unsure)


class History:
    """The conversation's earlier texts, counting how often they were asked for (a Firestore query)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> list[str]:
        self.calls += 1
        return ["earlier message", "earlier reply"]


def test_the_pool_answers_without_reading_the_history(repliers: dict[str, Replier]) -> None:
    history = History()
    query = np.ones(DIM, dtype=np.float32) / np.sqrt(DIM)
    drafted = draft(
        repliers["pooled"], "I lost my job", emotion("sadness"), query, EMBEDDER, "users/u/messages/m", history
    )
    assert drafted.source == POOL and drafted.context_turns == 0 and history.calls == 0
    assert drafted.text in {REPLIES[label] for label in ("sadness", "anger", "fear", "surprise")}  # no joy or love


def test_the_same_message_gets_the_same_reply_and_others_vary(repliers: dict[str, Replier]) -> None:
    query = np.ones(DIM, dtype=np.float32) / np.sqrt(DIM)

    def text_for(key: str) -> str:
        return draft(repliers["pooled"], "hi", emotion("surprise"), query, EMBEDDER, key, History()).text

    assert text_for("users/u/messages/a") == text_for("users/u/messages/a")
    assert len({text_for(f"users/u/messages/{i}") for i in range(20)}) > 1


@pytest.mark.parametrize(
    ("replier", "vector", "embedder"),
    [
        ("plain", np.ones(DIM, dtype=np.float32), EMBEDDER),  # the version ships no pool
        ("pooled", None, EMBEDDER),  # matching did not run: no embedding of the message
        ("pooled", np.ones(DIM, dtype=np.float32), "minilm@another"),  # the pool's vectors are another embedder's
    ],
)
def test_the_t5_replies_when_the_pool_cannot(
    repliers: dict[str, Replier], replier: str, vector: np.ndarray | None, embedder: str
) -> None:
    history = History()
    drafted = draft(
        repliers[replier], "I lost my job", emotion("sadness"), vector, embedder, "users/u/messages/m", history
    )
    assert drafted.source in (MODEL, FIXED) and history.calls == 1 and drafted.context_turns == 2
    assert drafted.text == repliers[replier].generate("I lost my job", "sadness", History()()).text


def test_an_unsure_reading_conditions_on_neutral_and_still_avoids_a_likely_polarity() -> None:
    assert reply_emotion(emotion("anger", 0.3, unsure=True)) == "neutral"
    assert reply_emotion(emotion("anger", 0.9)) == "anger"


def test_an_unsure_message_that_may_be_sad_gets_no_cheerful_pool_reply(repliers: dict[str, Replier]) -> None:
    scores = {"sadness": 0.3, "joy": 0.35, "love": 0.05, "anger": 0.1, "fear": 0.1, "surprise": 0.1}
    unsure = Emotion("joy", 0.35, scores, unsure=True)
    query = np.ones(DIM, dtype=np.float32) / np.sqrt(DIM)
    texts = {draft(repliers["pooled"], "meh", unsure, query, EMBEDDER, f"k{i}", History()).text for i in range(30)}
    assert texts and texts <= {REPLIES["surprise"]}  # both polarities are likely: only the neutral reply is left


def test_a_refining_t5_rewrites_the_pools_reply_with_the_conversation(repliers: dict[str, Replier]) -> None:
    refining, history = repliers["refining"], History()
    query = np.ones(DIM, dtype=np.float32) / np.sqrt(DIM)
    key = "users/u/messages/m"
    pooled = from_pool(refining, emotion("sadness"), query, EMBEDDER, key)
    assert pooled is not None and pooled in {REPLIES[label] for label in ("sadness", "anger", "fear", "surprise")}
    drafted = draft(refining, "I lost my job", emotion("sadness"), query, EMBEDDER, key, history)
    assert drafted.source in (REFINED, POOL) and history.calls == 1
    # What it wrote is the T5's greedy reply to the prompt carrying the retrieved reply.
    ids = refining.generate_ids(build_prompt("sadness", History()(), "I lost my job", pooled))
    written = refining.generate("I lost my job", "sadness", History()(), retrieved=pooled)
    if written.generated:
        assert written.text == tidy(refining.tokenizer.decode(ids, skip_special_tokens=True))
    assert drafted.text == (written.text if written.generated else pooled)
    assert drafted.source == (REFINED if written.generated else POOL)


def test_a_refining_t5_without_a_pool_answer_writes_from_none(repliers: dict[str, Replier]) -> None:
    refining = repliers["refining"]
    drafted = draft(refining, "I lost my job", emotion("sadness"), None, EMBEDDER, "k", History())
    expected = refining.generate("I lost my job", "sadness", History()(), retrieved="")
    assert drafted.text == expected.text and drafted.source in (MODEL, FIXED)
    assert build_prompt("sadness", (), "I lost my job", "").endswith("retrieved: none context: none")


def test_only_a_refining_t5_reads_the_retrieved_reply(repliers: dict[str, Replier]) -> None:
    plain = repliers["pooled"]
    assert not plain.refines and repliers["refining"].refines
    # An earlier T5 gets its own prompt whatever is retrieved.
    assert (
        plain.generate("I lost my job", "sadness", (), retrieved="Something else.").text
        == plain.generate("I lost my job", "sadness", ()).text
    )


def test_a_rewrite_of_the_wrong_polarity_gives_way_to_the_human_reply(repliers: dict[str, Replier]) -> None:
    refining = repliers["refining"]
    query = np.ones(DIM, dtype=np.float32) / np.sqrt(DIM)
    sad, key = emotion("sadness"), "users/u/messages/m"
    pooled = from_pool(refining, sad, query, EMBEDDER, key)
    written = refining.generate("I lost my job", "sadness", History()(), retrieved=pooled)
    read: list[str] = []

    def reads_as(label: str):  # a classifier stand-in: what it read, and what it says
        def read_one(text: str) -> Emotion:
            read.append(text)
            return emotion(label)

        return read_one

    cheerful = draft(refining, "I lost my job", sad, query, EMBEDDER, key, History(), reads=reads_as("joy"))
    assert (cheerful.text, cheerful.source) == (pooled, POOL)
    fitting = draft(refining, "I lost my job", sad, query, EMBEDDER, key, History(), reads=reads_as("sadness"))
    assert (fitting.text, fitting.source) == ((written.text, REFINED) if written.generated else (pooled, POOL))
    if written.generated:
        assert read == [written.text, written.text]  # the classifier read the rewrite, not the human reply
