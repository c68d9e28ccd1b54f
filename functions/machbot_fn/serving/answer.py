"""The answer to one message, typed: built by the pipeline, read by observers, written to Firestore here.

`Answer.to_fields()` is the one place that knows the document's field names (the README's contract):

    emotion   {label, score, scores}
    reply     {text, model {id, version}, source, generated, contextTurns}
    servedBy  {classifier {id, version, sha256, route | members}, replier {id, version}}
    timings   {fetchMs, classifyMs, generateMs, totalMs, coldStart, embedMs?, matchMs?}
    similar   [{id, text, score}], similarIds [id]   (when matching ran)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from machbot_fn.labels import ENSEMBLE_ID
from machbot_fn.models.classifier import Emotion, EmotionClassifier
from machbot_fn.models.registry import ServedModel
from machbot_fn.serving.reply import FIXED
from machbot_fn.sharing.similar import Similar


@dataclass(frozen=True)
class ServedBy:
    """A model version that served the message; the ensemble also names its members."""

    id: str
    version: str
    sha256: str
    route: str | None = None  # routing.PRIMARY or CANARY; None for the replier and the ensemble
    members: tuple[ServedBy, ...] = ()

    @classmethod
    def ensemble(cls, members: Sequence[ServedModel[EmotionClassifier]]) -> ServedBy:
        parts = tuple(cls(m.manifest.id, m.version, m.main_sha256) for m in members)
        return cls(
            id=ENSEMBLE_ID,
            version="+".join(f"{p.id}@{p.version}" for p in parts),
            sha256=hashlib.sha256("".join(p.sha256 for p in parts).encode()).hexdigest(),
            members=parts,
        )

    def classifier_fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "version": self.version, "sha256": self.sha256}
        if self.route is not None:
            out["route"] = self.route
        if self.members:
            out["members"] = [m.classifier_fields() for m in self.members]
        return out


@dataclass(frozen=True)
class Reply:
    text: str
    source: str  # serving.reply: POOL (a person's reply to a similar message), MODEL (the T5) or FIXED
    model: ServedBy
    context_turns: int  # earlier texts of the conversation the replier saw


@dataclass(frozen=True)
class Timings:
    fetch_ms: float  # the registry: choosing and (first time) loading the models
    classify_ms: float
    generate_ms: float  # the conversation's history and the reply
    total_ms: float  # fetch to reply, matching included, measured as one span
    cold_start: bool  # the instance's first message

    def fields(self, similar: Similar | None) -> dict[str, Any]:
        extra = {"embedMs": similar.embed_ms, "matchMs": similar.match_ms} if similar else {}
        return {
            "fetchMs": self.fetch_ms,
            "classifyMs": self.classify_ms,
            "generateMs": self.generate_ms,
            "totalMs": self.total_ms,
            "coldStart": self.cold_start,
            **extra,
        }


@dataclass(frozen=True)
class Answer:
    emotion: Emotion
    classifier: ServedBy
    reply: Reply
    timings: Timings
    shadow: ServedModel[EmotionClassifier] | None = None  # classifies the text after the answer is written
    similar: Similar | None = None  # None: matching did not run or failed

    def to_fields(self) -> dict[str, Any]:
        """The function-owned fields of the done message."""
        fields: dict[str, Any] = {
            "emotion": {
                "label": self.emotion.label,
                "score": self.emotion.score,
                "scores": dict(self.emotion.scores),
                "unsure": self.emotion.unsure,
            },
            "reply": {
                "text": self.reply.text,
                "model": {"id": self.reply.model.id, "version": self.reply.model.version},
                "source": self.reply.source,
                "generated": self.reply.source != FIXED,
                "contextTurns": self.reply.context_turns,
            },
            "servedBy": {
                "classifier": self.classifier.classifier_fields(),
                "replier": {"id": self.reply.model.id, "version": self.reply.model.version},
            },
            "timings": self.timings.fields(self.similar),
        }
        if self.similar is not None:
            fields["similar"] = [{"id": m.id, "text": m.text, "score": round(m.score, 3)} for m in self.similar.found]
            fields["similarIds"] = [m.id for m in self.similar.found]
        return fields
