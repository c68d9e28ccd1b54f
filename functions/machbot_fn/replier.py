"""Reply generation with an ONNX T5 (encoder + decoder) and a greedy loop in numpy.

`build_prompt` is the one prompt format: training (machbot_train.replier_data) builds its sources
with it, so what the model sees when serving is exactly what it learned from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from machbot_fn.classifier import load_session, load_tokenizer
from machbot_fn.errors import ModelUnavailable
from machbot_fn.manifest import Manifest

MAX_HISTORY = 3  # turns of context; more rarely helps a small model and costs encoder time
MAX_TURN_CHARS = 300  # keeps one long earlier turn from crowding the user's message out of max_length
FALLBACK_REPLY = "I hear you. Tell me more?"  # used only when the model generates nothing printable


def _clean_turn(text: str) -> str:
    return " ".join(str(text).split())[:MAX_TURN_CHARS]


def build_prompt(emotion: str, history: Sequence[str], text: str) -> str:
    """The model's source text: detected emotion, the user's message, then the last few turns.

    The message comes before the context and the context runs newest first, so when the tokenizer
    truncates to max_length it drops the oldest turn, never the message being answered.
    """
    turns = [_clean_turn(t) for t in history if str(t).strip()][-MAX_HISTORY:]
    context = " | ".join(reversed(turns)) if turns else "none"
    return f"emotion: {emotion.strip().lower()} message: {_clean_turn(text)} context: {context}"


_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,!?;:%)])")
_SENTENCE_START = re.compile(r"(^|[.!?]\s+)([a-z])")
_LONE_I = re.compile(r"\bi\b(?=($|[\s'’,.!?]))")


def tidy(text: str) -> str:
    """Readable text from a lower-cased model: spacing, sentence capitals, a capital 'I'."""
    text = " ".join(text.split())
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = _LONE_I.sub("I", text)
    return _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), text)


class Replier:
    """A published T5 replier: `encoder.onnx`, `decoder.onnx`, `tokenizer.json` and generation settings."""

    def __init__(self, manifest: Manifest, model_dir: Path, threads: int = 1) -> None:
        if manifest.is_classifier:
            raise ModelUnavailable(f"model {manifest.id} is a classifier, not a reply generator")
        self.manifest = manifest
        model_dir = Path(model_dir)
        self.encoder = load_session(model_dir / "encoder.onnx", threads)
        self.decoder = load_session(model_dir / "decoder.onnx", threads)
        self.tokenizer: Tokenizer = load_tokenizer(model_dir / "tokenizer.json", manifest.max_length)
        gen = manifest.generation
        self.start_id = int(gen["decoder_start_token_id"])
        self.eos_id = int(gen["eos_token_id"])
        self.pad_id = int(gen["pad_token_id"])
        self.max_new_tokens = int(gen["max_new_tokens"])

    def encode(self, prompt: str) -> tuple[np.ndarray, np.ndarray]:
        ids = self.tokenizer.encode(prompt).ids or [self.eos_id]
        input_ids = np.asarray([ids], dtype=np.int64)
        return input_ids, np.ones_like(input_ids)

    def generate_ids(self, prompt: str) -> list[int]:
        """Greedy decoding; the generated ids without the start token and without the final eos."""
        input_ids, mask = self.encode(prompt)
        (hidden,) = self.encoder.run(["last_hidden_state"], {"input_ids": input_ids, "attention_mask": mask})
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
            token = int(np.argmax(logits[0, -1]))
            if token == self.eos_id:
                break
            out.append(token)
            decoder_ids.append(token)
        return out

    def __call__(self, text: str, emotion: str, history: Sequence[str] = ()) -> str:
        ids = self.generate_ids(build_prompt(emotion, history, text))
        reply = tidy(self.tokenizer.decode(ids, skip_special_tokens=True))
        return reply or FALLBACK_REPLY
