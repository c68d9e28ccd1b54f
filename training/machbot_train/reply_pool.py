"""Build the reply pool (`reply_pool.npz`, format in machbot_fn.models.reply_pool) from training pairs.

From the *training* pairs of `reply_pairs` only (never a validation or test conversation):

1. Each reply is tidied as served (`replier.tidy`: spacing, capital "I" and sentence capitals, which
   EmpatheticDialogues' lower-cased text lacks; a missing space after a full stop, as in
   DailyDialog's "right.Move" or "that.is", is put back, and "gon na" is "gonna" again).
2. It is kept only if a person would accept it from a stranger (`rejection` says why not):
   - 2 to 40 words, with letters;
   - not only backchannel ("yeah", "ok", "what?", "oh really?": every word in `BACKCHANNEL`);
   - no MELD character's name (`NAMES`: the six friends in any case, the others capitalised) and no
     form of address (`ADDRESS`: "sir", "Mr.", "ma'am", ...): a reply to someone else;
   - not starting with a word that continues something unseen (`CONTINUATIONS`: "because", "and",
     "but", "or", "also", "then", ...);
   - no strong swear word (`SWEARING`).
3. Replies are de-duplicated by normalised text (`overlap.text_key`): the first pair keeps it.
4. Messages and replies are embedded with the served MiniLM (`SentenceEmbedder`, int8 ONNX), the
   replies read by our classifier (the shipped default by default: the best on chat-like text).
5. If the file would exceed `max_bytes` (20 MB), the largest message-emotion groups are cut to a
   common cap (a seeded sample) until it fits: the rare emotions are kept whole and the neutral mass
   (DailyDialog's everyday exchanges) is thinned first. The bytes a row takes are measured on a
   sample first, so the rows left out are never embedded.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from machbot_fn.labels import EMOTIONS, NEUTRAL
from machbot_fn.models.classifier import EmotionClassifier
from machbot_fn.models.embedder import SentenceEmbedder
from machbot_fn.models.manifest import GENERATION, Manifest, parse_manifest
from machbot_fn.models.replier import tidy
from machbot_fn.models.reply_pool import POOL_FILE, PoolArrays
from machbot_train.batching import read_emotions, rows_by_length
from machbot_train.overlap import text_key
from machbot_train.progress import RunLog
from machbot_train.reply_pairs import SOURCES, ReplyPair
from machbot_train.version_dir import CURRENT, MANIFEST, file_entries, read_manifest

MIN_WORDS, MAX_WORDS = 2, 40
MAX_BYTES = 20 * 1000 * 1000
EMBED_BATCH = 64


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


BACKCHANNEL = _words(
    "yeah yea yes yep yup no nope nah ok okay k oh ohh ah ahh aha uh um umm hmm hm mm mhm huh what why who "
    "really sure right well hey hi hello wow whoa oops god gosh my me excuse pardon sorry alright fine cool "
    "so see i lol haha hahaha"
)
NAMES_ANY_CASE = _words("ross rachel monica chandler joey phoebe")
NAMES = _words(
    "Janice Carol Emily Tag Mona Doug Richard Pete Mark Danny Treeger Joanna Geller Julie Elizabeth Paul Eric "
    "Susan Earl Barry Frank Chip Gunther Kate Charlie Tribbiani Joshua Cassie Kristen David Dina Julio Katie Ben "
    "Russell Jill Lydia Issac Stanley Mischa Janine Robert Kathy Emma Ursula Estelle Mike Paolo Judy Jack Erica "
    "Bing Buffay Green Amy Gary Mindy Bonnie Tim Jade Marcel Pheebs Rach Joe"
)
# "sir", "Mr. Smith", "Miss Lee": a reply to a particular person (DailyDialog's shops and offices).
ADDRESS = re.compile(r"(?i:\b(sir|sirs|madam|ma'am|mister|mr|mrs|ms|dr)\b)|\bMiss [A-Z]")
CONTINUATIONS = _words("because cause and but or also then plus nor")
SWEARING = frozenset({"fuck", "fucking", "fucked", "shit", "bitch", "bastard", "asshole", "dick", "cunt", "whore"})
_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
_JOINED_SENTENCE = re.compile(r"([a-z][.!?])([A-Z])")
# "that.is there": two lower-case words joined by a full stop (not a web address or an abbreviation).
_JOINED_LOWER = re.compile(r"\b([a-z]{2,})\.(?!(?:com|org|net|co|uk|io)\b)([a-z]{2,})\b")
_CAPITAL_CONTRACTION = re.compile(r"(\w)'(Ve|Re|Ll|S|M|D|T)\b")
# DailyDialog's and EmpatheticDialogues' tokenisers split "gonna" into "gon na".
_SPLIT_WORDS = re.compile(r"\b(gon|wan|got) (na|ta)\b", re.IGNORECASE)


def clean_reply(text: str) -> str:
    """The reply as it is served: sentence spacing restored, "I'Ve" (DailyDialog) as "I've", then `tidy`."""
    text = _CAPITAL_CONTRACTION.sub(lambda m: f"{m.group(1)}'{m.group(2).lower()}", text)
    text = _SPLIT_WORDS.sub(lambda m: m.group(1) + m.group(2), text)
    return tidy(_JOINED_LOWER.sub(r"\1. \2", _JOINED_SENTENCE.sub(r"\1 \2", text)))


def rejection(reply: str) -> str | None:
    """Why a (cleaned) reply is not one a person would accept from a stranger; None if it is."""
    words = reply.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return f"not {MIN_WORDS}-{MAX_WORDS} words"
    tokens = _WORD.findall(reply)
    if not tokens:
        return "no letters"
    lower = [t.lower().strip("'") for t in tokens]
    if all(t in BACKCHANNEL for t in lower):
        return "backchannel only"
    if any(t in NAMES_ANY_CASE for t in lower) or any(t in NAMES for t in tokens):
        return "a character's name"
    if ADDRESS.search(reply):
        return "a form of address"
    if lower[0] in CONTINUATIONS:
        return "continues unseen context"
    if any(t in SWEARING for t in lower):
        return "swearing"
    return None


@dataclass(frozen=True)
class PoolRow:
    message: str
    emotion: str  # the message's annotated emotion (EMOTIONS or NEUTRAL)
    reply: str  # cleaned
    corpus: str


@dataclass
class PoolStats:
    pairs: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    kept: int = 0
    rows: int = 0
    bytes: int = 0
    by_corpus: dict[str, int] = field(default_factory=dict)
    by_emotion: dict[str, int] = field(default_factory=dict)
    reply_emotions: dict[str, int] = field(default_factory=dict)
    cap: int | None = None
    embedder: str = ""
    classifier: str = ""

    def to_dict(self) -> dict[str, Any]:
        """What the manifest's `provenance.reply_pool` says about the pool."""
        return {
            "file": POOL_FILE,
            "data": "; ".join(SOURCES.values()) + " (training conversations only: machbot_train.reply_pairs)",
            "embedder": self.embedder,
            "classifier": self.classifier,
            "training_pairs": self.pairs,
            "rejected": dict(self.rejected.most_common()),
            "duplicate_replies": self.duplicates,
            "kept": self.kept,
            "rows": self.rows,
            "bytes": self.bytes,
            "emotion_cap": self.cap,
            "by_corpus": self.by_corpus,
            "by_message_emotion": self.by_emotion,
            "by_reply_emotion": self.reply_emotions,
        }


def select_rows(pairs: Sequence[ReplyPair], stats: PoolStats | None = None) -> list[PoolRow]:
    """The acceptable, de-duplicated replies of `pairs`, in order."""
    stats = stats if stats is not None else PoolStats()
    stats.pairs = len(pairs)
    seen: set[str] = set()
    rows = []
    for pair in pairs:
        reply = clean_reply(pair.reply)
        why = rejection(reply)
        if why:
            stats.rejected[why] += 1
            continue
        key = text_key(reply)
        if key in seen:
            stats.duplicates += 1
            continue
        seen.add(key)
        rows.append(PoolRow(" ".join(pair.message.split()), pair.emotion, reply, pair.corpus))
    stats.kept = len(rows)
    return rows


def cap_groups(groups: dict[str, int], total: int) -> int:
    """The largest per-group cap so that sum(min(size, cap)) <= total (water-filling)."""
    low, high = 0, max(groups.values(), default=0)
    while low < high:
        mid = (low + high + 1) // 2
        if sum(min(n, mid) for n in groups.values()) <= total:
            low = mid
        else:
            high = mid - 1
    return low


def subsample(rows_by_emotion: dict[str, list[int]], cap: int, seed: int) -> list[int]:
    """Row indices: every group cut to at most `cap` (seeded), in their original order."""
    rng = random.Random(seed)
    keep: list[int] = []
    for label in sorted(rows_by_emotion):
        indices = rows_by_emotion[label]
        keep.extend(indices if len(indices) <= cap else rng.sample(indices, cap))
    return sorted(keep)


def _file_size(arrays: PoolArrays) -> int:
    with tempfile.TemporaryDirectory(prefix="machbot-pool-") as tmp:
        path = Path(tmp) / POOL_FILE
        arrays.save(path)
        return path.stat().st_size


def embed_texts(embedder: SentenceEmbedder, texts: list[str], log: RunLog | None = None) -> np.ndarray:
    """Unit vectors [len(texts), dim] from the served embedder, batched by length (a progress bar with `log`)."""
    if log is None:
        return rows_by_length(embedder.embed, texts, embedder.dim, EMBED_BATCH)
    with log.progress(f"embedding with {embedder.manifest.versioned_id}", -(-len(texts) // EMBED_BATCH)) as advance:
        return rows_by_length(embedder.embed, texts, embedder.dim, EMBED_BATCH, advance)


def pool_arrays(
    rows: Sequence[PoolRow], embedder: SentenceEmbedder, classifier: EmotionClassifier, log: RunLog | None = None
) -> PoolArrays:
    """The pool of `rows`: messages and replies embedded, the replies' emotions read."""
    messages = embed_texts(embedder, [r.message for r in rows], log)
    replies = embed_texts(embedder, [r.reply for r in rows], log)
    if log is not None:
        log.info(f"reading the emotion of {len(rows)} replies with {classifier.manifest.versioned_id}")
    read = read_emotions(classifier, [r.reply for r in rows])
    return PoolArrays.from_vectors(
        messages,
        [r.reply for r in rows],
        replies,
        [r.emotion for r in rows],
        [e.label for e in read],
        [e.score for e in read],
        embedder=embedder.manifest.versioned_id,
        classifier=classifier.manifest.versioned_id,
    )


def _capped(rows: Sequence[PoolRow], keep: list[int], target: int, seed: int) -> tuple[list[int], int]:
    """`keep` cut to about `target` rows, the largest message-emotion groups first; and the cap."""
    groups: dict[str, list[int]] = {}
    for i in keep:
        groups.setdefault(rows[i].emotion, []).append(i)
    cap = cap_groups({label: len(v) for label, v in groups.items()}, target)
    return subsample(groups, cap, seed), cap


def build_pool_arrays(
    rows: Sequence[PoolRow],
    embedder: SentenceEmbedder,
    classifier: EmotionClassifier,
    *,
    max_bytes: int = MAX_BYTES,
    seed: int = 13,
    stats: PoolStats | None = None,
    log: RunLog | None = None,
    estimate_rows: int = 1000,
) -> PoolArrays:
    """The pool of `rows`, fitted into `max_bytes`: the bytes a row takes are measured on a seeded sample
    first, so rows that would not fit are never embedded; then cut again until the file fits."""
    stats = stats if stats is not None else PoolStats()
    if not rows:
        raise ValueError("no reply is left to pool")
    keep = list(range(len(rows)))
    sample = sorted(random.Random(seed).sample(keep, min(estimate_rows, len(keep))))
    per_row = _file_size(pool_arrays([rows[i] for i in sample], embedder, classifier)) / len(sample)
    if per_row * len(keep) > max_bytes:
        keep, stats.cap = _capped(rows, keep, int(max_bytes / per_row * 0.97), seed)
        if log is not None:
            log.info(
                f"about {per_row:.0f} bytes a row: message-emotion groups capped at {stats.cap} ({len(keep)} rows)"
            )
    arrays = pool_arrays([rows[i] for i in keep], embedder, classifier, log)
    size = _file_size(arrays)
    while size > max_bytes:
        kept, stats.cap = _capped(rows, keep, int(len(keep) * max_bytes / size * 0.98), seed)
        position = {row: n for n, row in enumerate(keep)}
        arrays, keep = arrays.take([position[i] for i in kept]), kept
        size = _file_size(arrays)
        if log is not None:
            log.info(f"still over {max_bytes / 1e6:.0f} MB: groups capped at {stats.cap} ({len(keep)} rows)")
    stats.rows, stats.bytes = len(keep), size
    stats.embedder, stats.classifier = arrays.embedder, arrays.classifier
    stats.by_corpus = dict(Counter(rows[i].corpus for i in keep).most_common())
    emotion_counts = Counter(rows[i].emotion for i in keep)
    stats.by_emotion = {label: emotion_counts.get(label, 0) for label in (*EMOTIONS, NEUTRAL)}
    reply_counts = Counter(EMOTIONS[int(i)] for i in arrays.reply_emotions)
    stats.reply_emotions = {label: reply_counts.get(label, 0) for label in EMOTIONS}
    return arrays


def ranked_classifiers(root: Path) -> list[Path]:
    """The shipped classifiers' CURRENT versions, best on chat-like text first (the manifests'
    `chat_macro_f1`, what the default model is chosen by); those without the figure are left out."""
    from machbot_fn.labels import CLASSIFIER_IDS

    scored = []
    for model_id in CLASSIFIER_IDS:
        current = Path(root) / model_id / CURRENT
        if current.is_file():
            version_dir = current.parent / current.read_text().strip()
            score = read_manifest(version_dir).metrics.get("chat_macro_f1")
            if isinstance(score, int | float):
                scored.append((-float(score), model_id, version_dir))
    if not scored:
        raise FileNotFoundError(f"no classifier under {root} has a chat figure (metrics.chat_macro_f1)")
    return [version_dir for _, _, version_dir in sorted(scored)]


def default_embedder_dir(build_root: Path) -> Path:
    """The served MiniLM, exported from its PyPI package into `build_root` once (machbot_train.embedder)."""
    from machbot_train.embedder import build_minilm_embedder

    return build_minilm_embedder(build_root, current=False)


def build_reply_pool(
    out: Path,
    *,
    classifier_dir: Path,
    embedder_dir: Path,
    data_dir: Path | None = None,
    max_bytes: int = MAX_BYTES,
    seed: int = 13,
    log: RunLog | None = None,
) -> PoolStats:
    """Write `out` (a reply_pool.npz) from the training pairs; returns what was kept and dropped."""
    from machbot_train.reply_pairs import load_reply_splits

    log = log or RunLog()
    classifier = EmotionClassifier(read_manifest(classifier_dir), classifier_dir, threads=1)
    embedder = SentenceEmbedder(read_manifest(embedder_dir), embedder_dir, threads=1)
    log.info("reading the dialogue corpora and splitting them by conversation")
    splits = load_reply_splits(data_dir)
    stats = PoolStats()
    rows = select_rows(splits.train, stats)
    log.info(f"{stats.kept} of {stats.pairs} training replies kept ({stats.duplicates} repeats)")
    arrays = build_pool_arrays(rows, embedder, classifier, max_bytes=max_bytes, seed=seed, stats=stats, log=log)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    arrays.save(Path(out))
    stats.bytes = Path(out).stat().st_size
    log.info(f"wrote {out}: {stats.rows} replies, {stats.bytes / 1e6:.1f} MB")
    return stats


def pool_provenance(pool_path: Path) -> dict[str, Any]:
    """How the pool was built, from the manifest of the version directory it ships in ({} if none)."""
    manifest = pool_path.parent / "manifest.json"
    if not manifest.is_file():
        return {}
    built = read_manifest(pool_path.parent).provenance.get("reply_pool")
    return built if isinstance(built, dict) else {}


def add_pool_to_version(version_dir: Path, pool: Path, provenance: dict[str, Any]) -> Manifest:
    """Copy `pool` into a replier version directory and list it (sha256, size) in its manifest, with
    `provenance.reply_pool`; the manifest is checked as the function will read it before it is written."""
    version_dir = Path(version_dir)
    manifest = read_manifest(version_dir)
    if manifest.task != GENERATION:
        raise ValueError(f"{version_dir} is a {manifest.task} model, not a replier")
    target = version_dir / POOL_FILE
    if Path(pool).resolve() != target.resolve():
        shutil.copyfile(pool, target)
    path = version_dir / MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    data["files"] = {name: {"sha256": e.sha256, "size": e.size} for name, e in file_entries(version_dir).items()}
    data.setdefault("provenance", {})["reply_pool"] = provenance
    parsed = parse_manifest(data)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return parsed


def build_pool_version(
    t5_dir: Path,
    out_root: Path | None,
    *,
    classifier_dir: Path,
    embedder_dir: Path,
    version: str | None = None,
    data_dir: Path | None = None,
    max_bytes: int = MAX_BYTES,
    log: RunLog | None = None,
) -> tuple[Path, PoolStats]:
    """Build the pool and ship it in a replier version: a copy of `t5_dir` as `out_root/<id>/<version>/`
    (`version` is then required), or `t5_dir` itself when `out_root` is None. The manifest lists the
    pool with its sha256 and says how it was built (`provenance.reply_pool`)."""
    from machbot_train.version_dir import copy_version

    source = read_manifest(t5_dir)
    if source.task != GENERATION:
        raise ValueError(f"{t5_dir} is a {source.task} model, not a replier")
    if out_root is None:
        target = Path(t5_dir)
    else:
        if not version:
            raise ValueError("a copy of the replier needs a version name")
        target = copy_version(t5_dir, out_root, version)
    try:
        stats = build_reply_pool(
            target / POOL_FILE,
            classifier_dir=classifier_dir,
            embedder_dir=embedder_dir,
            data_dir=data_dir,
            max_bytes=max_bytes,
            log=log,
        )
        add_pool_to_version(target, target / POOL_FILE, stats.to_dict())
    except BaseException:
        if out_root is not None:
            shutil.rmtree(target, ignore_errors=True)  # never leave a half-built version behind
        raise
    return target, stats
