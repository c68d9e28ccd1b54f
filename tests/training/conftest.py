"""Shared fixtures: sample texts, a labelled sample of the emotion data, a quick fitting step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

# Torch must not compete for the cores with whatever else runs on the machine.
torch.set_num_threads(1)

SAMPLE_TEXTS = (
    "i feel so happy and grateful today",
    "i am sad and lonely tonight",
    "i love the way you smile",
    "this traffic makes me furious",
    "i am terrified of the exam",
    "wow i did not expect that at all",
    "i feel like nobody cares",
    "what an amazing surprise",
    "",
    "a " * 200,  # longer than max_length: exercises truncation
)


@pytest.fixture(scope="session")
def sample_texts() -> list[str]:
    return list(SAMPLE_TEXTS)


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def emotion_sample() -> tuple[list[str], list[int]]:
    """The first 320 labelled lines of the emotion training set (skips when the data is absent)."""
    from machbot_train.data import DataError, load_emotion_split

    try:
        split = load_emotion_split("train")
    except DataError as exc:
        pytest.skip(str(exc))
    return split.texts[:320], split.labels[:320]


def _quick_fit(model: torch.nn.Module, ids: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor, steps: int) -> None:
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for step in range(steps):
        start = (step * 32) % len(ids)
        sl = slice(start, start + 32)
        loss = torch.nn.functional.cross_entropy(model(input_ids=ids[sl], attention_mask=mask[sl]).logits, labels[sl])
        loss.backward()
        opt.step()
        opt.zero_grad()
    model.eval()


@pytest.fixture(scope="session")
def quick_fit() -> Callable[..., None]:
    """A few Adam steps so a tiny model's logits have real margins (a random model's are all ~1/6)."""
    return _quick_fit


@pytest.fixture(scope="session")
def mini_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first lines of every corpus in the real layout: the data pipeline runs for real, in seconds."""
    from machbot_train.data import corpus_dir

    out = tmp_path_factory.mktemp("data")
    head = {".txt": 120, ".tsv": 150, ".csv": 400}
    for relative in ("emotion", "goemotions", "dailydialog", "dialogue/meld", "dialogue/empathetic_dialogues"):
        source = corpus_dir(relative)
        if not source.is_dir():
            pytest.skip(f"{source} not present")
        for path in source.rglob("*"):
            if path.suffix not in head or path.name == "emotions.txt":
                if path.name == "emotions.txt":
                    (out / relative).mkdir(parents=True, exist_ok=True)
                    (out / relative / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
                continue
            n = 40 if "dialogues_" in path.name else head[path.suffix]  # DailyDialog: a line is a dialogue
            target = out / relative / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)[:n]
            target.write_text("".join(lines), encoding="utf-8")
    return out
