"""`machbot chat`'s pure parts: text checks, catalog checks and how answers are printed."""

from __future__ import annotations

from rich.console import Console

from machbot.chat import (
    CatalogEntry,
    best_model,
    check_model,
    check_text,
    emotion_line,
    render_answer,
    served_by_line,
)

DONE = {
    "model": "bert",
    "status": {"state": "done", "attempt": 1},
    "emotion": {
        "label": "joy",
        "score": 0.93,
        "scores": {"joy": 0.93, "love": 0.04, "sadness": 0.02, "anger": 0.01, "fear": 0.0, "surprise": 0.0},
    },
    "reply": {"text": "that is wonderful [news]!", "model": {"id": "t5", "version": "1"}},
    "servedBy": {
        "classifier": {"id": "bert", "version": "3", "sha256": "ab" * 32},
        "replier": {"id": "t5", "version": "1"},
    },
    "timings": {"totalMs": 88.4, "coldStart": False},
}


def printed(doc: dict) -> str:
    console = Console(record=True, width=200, color_system=None)
    render_answer(console, doc)
    return console.export_text()


def test_text_limits_count_utf16_units() -> None:
    assert check_text("hello") is None
    assert check_text("   ") is not None
    assert check_text("a" * 2000) is None
    assert "2001/2000" in check_text("a" * 2001)
    assert "2002/2000" in check_text("😀" * 1001)  # each emoji is two UTF-16 units, as the rules count


def test_model_must_be_in_the_catalog_and_usable() -> None:
    entries = [
        CatalogEntry("bert", "BERT", "3", "serving", True, 0.93),
        CatalogEntry("roberta", "RoBERTa", "1", "invalid", True, None),
    ]
    assert check_model("bert", entries) is None
    assert "available: bert, roberta" in check_model("gpt-nine", entries)
    assert "unavailable" in check_model("roberta", entries)
    assert check_model("anything", []) is None  # an empty catalog is left to the function


def test_done_answer_shows_emotion_reply_and_served_by() -> None:
    out = printed(DONE)
    assert "joy 93%" in out and "love 4%" in out
    assert "machbot › that is wonderful [news]!" in out  # markup in replies is printed as text
    assert "answered by bert v3 · 88 ms · reply by t5 v1" in out
    assert served_by_line({**DONE, "timings": {"totalMs": 2500, "coldStart": True}}).endswith(
        "2500 ms (cold start) · reply by t5 v1"
    )
    pooled = {**DONE, "reply": {**DONE["reply"], "source": "pool"}}
    assert served_by_line(pooled).endswith("reply: what people answered to a similar message (t5 v1)")
    refined = {**DONE, "reply": {**DONE["reply"], "source": "refined"}}
    assert served_by_line(refined).endswith("reply by t5 v1, reworded from what people answered to a similar message")


def test_error_answer_shows_code_and_message() -> None:
    out = printed({"status": {"state": "error"}, "error": {"code": "unknown_model", "message": "no model named 'x'"}})
    assert "error (unknown_model): no model named 'x'" in out


def test_emotion_line_without_scores() -> None:
    assert "sadness 51%" in emotion_line({"label": "sadness", "score": 0.51})


def test_similar_thoughts_are_printed_without_ids_or_scores() -> None:
    doc = {**DONE, "similar": [{"id": "t1", "text": "me too [honestly]", "score": 0.91}, {"id": "t2"}]}
    out = printed(doc)
    assert "others felt this too:" in out and "“me too [honestly]”" in out
    assert "t1" not in out and "0.91" not in out
    assert "others felt this too" not in printed(DONE)


def test_emotion_line_says_not_sure_under_the_threshold() -> None:
    line = emotion_line({"label": "anger", "score": 0.31, "scores": {"anger": 0.31, "joy": 0.3}, "unsure": True})
    assert line.startswith("[bold]not sure[/] (maybe anger 31%)")
    assert "not sure" not in emotion_line({"label": "anger", "score": 0.91, "unsure": False})


def test_the_default_model_is_the_usable_one_best_on_chat() -> None:
    entries = [
        CatalogEntry("bert", "BERT", "3", "serving", True, 0.935, chat_f1=0.61),
        CatalogEntry("roberta", "RoBERTa", "2", "serving", True, 0.92, chat_f1=0.70),
        CatalogEntry("electra", "ELECTRA", "2", "invalid", True, 0.90, chat_f1=0.75),
    ]
    assert best_model(entries) == "roberta"  # the best tweet model is not the default; a broken one cannot be
    assert best_model([CatalogEntry("bert", "BERT", "1", "serving", True, 0.9)]) == "bert"
    assert best_model([], fallback="distilbert") == "distilbert"
