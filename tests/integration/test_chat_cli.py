"""`machbot chat` against the emulators, non-interactively (stdin piped), as a person would use it."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from google.cloud import firestore

TIMEOUT = 300  # the whole command; the machine is shared with training jobs


def machbot_chat(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "machbot.cli", "chat", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )


def flat(text: str) -> str:
    return " ".join(text.split())


def test_chat_answers_with_reply_and_emotion(db: firestore.Client, published) -> None:
    lines = [
        "x" * 2001,  # refused locally: never written
        "i am so happy today, we won the final",
        "/model distilbert",
        "now i am worried about the next match",
        "/quit",
        "this line is never read",
    ]
    result = machbot_chat("--model", "bert", stdin="\n".join(lines) + "\n")
    out = result.stdout
    assert result.returncode == 0, f"stdout:\n{out}\nstderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr

    uid = re.search(r"signed in as (\S+)", out).group(1)
    assert "too long (2001/2000" in out
    messages = sorted(
        (s.to_dict() for s in db.collection(f"users/{uid}/messages").stream()), key=lambda d: d["createdAt"]
    )
    assert [m["text"] for m in messages] == [lines[1], lines[3]]
    assert [m["model"] for m in messages] == ["bert", "distilbert"]
    assert len({m["conversationId"] for m in messages}) == 1  # one conversation per chat session

    for message, model in zip(messages, ("bert", "distilbert"), strict=True):
        assert message["status"]["state"] == "done", message.get("error")
        emotion = message["emotion"]
        assert f"{emotion['label']} {emotion['score']:.0%}" in out
        assert flat(message["reply"]["text"]) in flat(out)
        assert f"answered by {model} " in out
    assert out.rstrip().endswith("bye")
    assert "never read" not in out


def test_chat_refuses_a_model_that_is_not_in_the_catalog(published) -> None:
    result = machbot_chat("--model", "gpt-nine", stdin="hello\n")
    assert result.returncode == 2
    assert "gpt-nine" in result.stderr and "available: " in result.stderr
    assert "Traceback" not in result.stderr


def test_chat_ends_at_end_of_input(published) -> None:
    result = machbot_chat(stdin="")
    assert result.returncode == 0, result.stderr
    assert "signed in as" in result.stdout and result.stdout.rstrip().endswith("bye")
