"""Reply generation with an ONNX T5 (encoder + decoder) and a greedy loop in numpy, and the version's
reply pool (the human replies it ships with, machbot_fn.models.reply_pool) when it has one.

`build_prompt` is the one prompt format: training (machbot_train.replier_data) builds its sources
with it, so what the model sees when serving is exactly what it learned from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from machbot_fn.errors import ModelUnavailable
from machbot_fn.labels import NEUTRAL
from machbot_fn.models.manifest import GENERATION, PROMPT_PLAIN, PROMPT_RETRIEVED, Manifest
from machbot_fn.models.reply_pool import POOL_FILE, ReplyPool
from machbot_fn.models.runtime import load_session, load_tokenizer

MAX_HISTORY = 3  # turns of context; more rarely helps a small model and costs encoder time
MAX_TURN_CHARS = 300  # keeps one long earlier turn from crowding the user's message out of max_length
FALLBACK_REPLY = "I hear you. Tell me more?"  # used only when the model generates nothing printable
SMOKE_PROMPT = "smoke test"


@dataclass(frozen=True)
class GeneratedReply:
    text: str
    generated: bool  # False when the model produced nothing printable and the fallback was used


def _clean_turn(text: str) -> str:
    return " ".join(str(text).split())[:MAX_TURN_CHARS]


def build_prompt(emotion: str, history: Sequence[str], text: str, retrieved: str | None = None) -> str:
    """The model's source text: detected emotion, the user's message, then the last few turns.

    The message comes before the context and the context runs newest first, so when the tokenizer
    truncates to max_length it drops the oldest turn, never the message being answered.
    `retrieved` is for a retrieve-and-refine model (generation prompt `PROMPT_RETRIEVED`): a human reply
    to a similar message, placed right after the message ("" when there is none: `none`); None gives
    the plain prompt the earlier repliers were trained on.
    """
    turns = [_clean_turn(t) for t in history if str(t).strip()][-MAX_HISTORY:]
    context = " | ".join(reversed(turns)) if turns else "none"
    head = f"emotion: {emotion.strip().lower()} message: {_clean_turn(text)}"
    if retrieved is not None:
        head += f" retrieved: {_clean_turn(retrieved) or 'none'}"
    return f"{head} context: {context}"


_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,!?;:%)])")
_SENTENCE_START = re.compile(r"(^|[.!?]\s+)([a-z])")
_LONE_I = re.compile(r"\bi\b(?=($|[\s'’,.!?]))")


def tidy(text: str) -> str:
    """Readable text from a lower-cased model: spacing, sentence capitals, a capital 'I'."""
    text = " ".join(text.split())
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = _LONE_I.sub("I", text)
    return _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), text)


CACHE_FILES = ("cross_kv.onnx", "decoder_step.onnx")


def banned_tokens(decoder_ids: Sequence[int], n: int) -> set[int]:
    """Tokens that would complete an n-gram already in `decoder_ids` (as transformers' no_repeat_ngram_size).

    A small model left alone loops ("i am so sorry to hear that. i am so sorry to hear that...");
    forbidding repeated trigrams breaks the loop without changing anything else about greedy search.
    """
    if n <= 0 or len(decoder_ids) + 1 < n:
        return set()
    prefix = tuple(decoder_ids[len(decoder_ids) - n + 1 :]) if n > 1 else ()
    return {
        decoder_ids[i + n - 1] for i in range(len(decoder_ids) - n + 1) if tuple(decoder_ids[i : i + n - 1]) == prefix
    }


def penalise_repeats(logits: np.ndarray, decoder_ids: Sequence[int], penalty: float) -> np.ndarray:
    """CTRL's repetition penalty, as transformers applies it: the logit of every token already in
    `decoder_ids` is divided by `penalty` if positive, multiplied if negative. The small replier
    otherwise pads a reply with stock phrases ("i am sure you will be a lot of the same")."""
    if penalty == 1.0 or not decoder_ids:
        return logits
    seen = np.unique(np.asarray(decoder_ids, dtype=np.int64))
    out = logits.copy()
    values = out[seen]
    out[seen] = np.where(values < 0, values * penalty, values / penalty)
    return out


class Replier:
    """A published T5 replier: `encoder.onnx`, `decoder.onnx`, `tokenizer.json` and generation settings.

    When the version also ships the key/value-cache graphs (`cross_kv.onnx`, `decoder_step.onnx`, see
    machbot_fn.models.manifest), generation feeds one token per step; otherwise it re-reads the prefix.
    Both loops pick exactly the same tokens.
    """

    def __init__(self, manifest: Manifest, model_dir: Path, threads: int = 1) -> None:
        if manifest.task != GENERATION:
            raise ModelUnavailable(f"model {manifest.id} is a {manifest.task} model, not a reply generator")
        self.manifest = manifest
        self.model_dir = Path(model_dir)
        self.threads = threads
        self.encoder = load_session(self.model_dir / "encoder.onnx", threads)
        self.uses_cache = all(name in manifest.files for name in CACHE_FILES)
        if self.uses_cache:
            self.cross_kv = load_session(self.model_dir / "cross_kv.onnx", threads)
            self.decoder_step = load_session(self.model_dir / "decoder_step.onnx", threads)
        self._decoder: ort.InferenceSession | None = None if self.uses_cache else self._load_decoder()
        self.tokenizer: Tokenizer = load_tokenizer(self.model_dir / "tokenizer.json", manifest.max_length)
        gen = manifest.generation
        self.start_id = int(gen["decoder_start_token_id"])
        self.eos_id = int(gen["eos_token_id"])
        self.pad_id = int(gen["pad_token_id"])
        self.max_new_tokens = int(gen["max_new_tokens"])
        self.no_repeat_ngram_size = int(gen.get("no_repeat_ngram_size", 0))
        self.repetition_penalty = float(gen.get("repetition_penalty", 1.0))
        self.prompt = str(gen.get("prompt", PROMPT_PLAIN))
        # Listed in the manifest, so the registry has downloaded and checksummed it with the graphs.
        self.pool: ReplyPool | None = (
            ReplyPool.load(self.model_dir / POOL_FILE) if POOL_FILE in manifest.files else None
        )

    def _load_decoder(self) -> ort.InferenceSession:
        return load_session(self.model_dir / "decoder.onnx", self.threads)

    @property
    def decoder(self) -> ort.InferenceSession:
        """The plain decoder; loaded only when first needed if the cache graphs serve."""
        if self._decoder is None:
            self._decoder = self._load_decoder()
        return self._decoder

    def encode(self, prompt: str) -> tuple[np.ndarray, np.ndarray]:
        ids = self.tokenizer.encode(prompt).ids or [self.eos_id]
        input_ids = np.asarray([ids], dtype=np.int64)
        return input_ids, np.ones_like(input_ids)

    def _encode_and_run_encoder(self, prompt: str) -> tuple[np.ndarray, np.ndarray]:
        input_ids, mask = self.encode(prompt)
        (hidden,) = self.encoder.run(["last_hidden_state"], {"input_ids": input_ids, "attention_mask": mask})
        return hidden, mask

    def _pick(self, logits: np.ndarray, decoder_ids: list[int]) -> int:
        """The greedy choice: tokens already used are penalised, and tokens that would repeat an n-gram
        already generated are skipped (transformers' repetition_penalty and no_repeat_ngram_size)."""
        logits = penalise_repeats(logits, decoder_ids, self.repetition_penalty)
        banned = banned_tokens(decoder_ids, self.no_repeat_ngram_size)
        if banned:
            logits = logits.copy()
            logits[list(banned)] = -np.inf
        return int(np.argmax(logits))

    def generate_ids(self, prompt: str) -> list[int]:
        """Greedy decoding; the generated ids without the start token and without the final eos."""
        return self.generate_ids_cached(prompt) if self.uses_cache else self.generate_ids_plain(prompt)

    def generate_ids_plain(self, prompt: str) -> list[int]:
        """Greedy decoding with decoder.onnx: the whole prefix at every step."""
        hidden, mask = self._encode_and_run_encoder(prompt)
        out: list[int] = []
        decoder_ids = [self.start_id]
        for _ in range(self.max_new_tokens):
            (logits,) = self.decoder.run(
                ["logits"],
                {
                    "input_ids": np.asarray([decoder_ids], dtype=np.int64),
                    "encoder_hidden_states": hidden,
                    "encoder_attention_mask": mask,
                },
            )
            token = self._pick(logits[0, -1], decoder_ids)
            if token == self.eos_id:
                break
            out.append(token)
            decoder_ids.append(token)
        return out

    def generate_ids_cached(self, prompt: str) -> list[int]:
        """Greedy decoding with the key/value cache: one token in, one distribution out per step."""
        if not self.uses_cache:
            raise ModelUnavailable(f"model {self.manifest.id} {self.manifest.version} ships no key/value-cache graphs")
        hidden, mask = self._encode_and_run_encoder(prompt)
        cross_k, cross_v = self.cross_kv.run(["cross_k", "cross_v"], {"encoder_hidden_states": hidden})
        layers, batch, heads, _, d_kv = cross_k.shape
        past_k = np.zeros((layers, batch, heads, 0, d_kv), dtype=cross_k.dtype)
        past_v = past_k
        out: list[int] = []
        token = self.start_id
        decoder_ids = [self.start_id]
        for _ in range(self.max_new_tokens):
            logits, past_k, past_v = self.decoder_step.run(
                ["logits", "present_k", "present_v"],
                {
                    "input_ids": np.asarray([[token]], dtype=np.int64),
                    "encoder_attention_mask": mask,
                    "cross_k": cross_k,
                    "cross_v": cross_v,
                    "past_k": past_k,
                    "past_v": past_v,
                },
            )
            token = self._pick(logits[0], decoder_ids)
            if token == self.eos_id:
                break
            out.append(token)
            decoder_ids.append(token)
        return out

    @property
    def refines(self) -> bool:
        """Trained to write from a retrieved human reply (retrieve-and-refine) as well as the message."""
        return self.prompt == PROMPT_RETRIEVED

    def generate(
        self, text: str, emotion: str, history: Sequence[str] = (), retrieved: str | None = None
    ) -> GeneratedReply:
        """The reply, and whether the model produced it (False: the fallback stood in for empty output).
        `retrieved`: a human reply to refine, read only by a model that `refines` (None: it has none)."""
        return self.reply_to_prompt(build_prompt(emotion, history, text, (retrieved or "") if self.refines else None))

    def reply_to_prompt(self, prompt: str) -> GeneratedReply:
        """The reply to a prompt `build_prompt` made (the evaluation replays training's sources)."""
        ids = self.generate_ids(prompt)
        reply = tidy(self.tokenizer.decode(ids, skip_special_tokens=True))
        return GeneratedReply(reply, True) if reply else GeneratedReply(FALLBACK_REPLY, False)

    def __call__(self, text: str, emotion: str, history: Sequence[str] = ()) -> str:
        return self.generate(text, emotion, history).text

    def smoke_test(self) -> None:
        """The decoding loop runs end to end (an empty reply is allowed: the fallback covers it), and the
        pool, if any, answers a query."""
        self.generate_ids(SMOKE_PROMPT)
        if self.pool is not None:
            query = np.ones(self.pool.dim, dtype=np.float32) / np.sqrt(self.pool.dim)
            if not self.pool.candidates(query, NEUTRAL, k=1):
                raise ModelUnavailable(
                    f"model {self.manifest.id} {self.manifest.version}: the reply pool found nothing"
                )
