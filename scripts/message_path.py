"""Following one message through the function's code, file by file, as a reader following its calls would.

`trace(fn)` runs `fn` under a profiler hook and records, after every Python call and return, which
file of `functions/` the innermost of our own frames is in (library frames are skipped: a call into
google-cloud-firestore that calls back into our code stays in our file). Consecutive repeats are
merged, so the result is the order in which files are entered. From it:

- files: how many different files the message passes through;
- entries: how many times a file is entered (the first time or again, by a call or a return);
- returns: entries into a file that had already been left (entries - files);
- per file: how many times each one is entered, and how many calls come into it from another file
  (a return to a caller is an entry, not a call in).

The orchestrator (`serving/pipeline.py`) is entered again after every call it makes, so it is
reported on its own line; the other files are the ones a reader should visit once or twice.

The message is handled in-process as the function handles it (its settings, a registry over an
in-memory bucket holding the tiny default models, a real Firestore client on the emulator, in a
project of its own). The first message of a fresh registry loads every model it needs (cold); the
second, in the same conversation, is the common case (warm). Run it with
`scripts/message_path.sh`, which starts a Firestore emulator under the machine-wide emulator lock;
`scripts/message_path.sh /path/to/other/checkout` measures another checkout's code the same way.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")
ORCHESTRATOR = "machbot_fn/serving/pipeline.py"
FUNCTIONS = Path(__file__).resolve().parents[1] / "functions"
TINY_MODELS = Path(__file__).resolve().parents[1] / ".emulators" / "tiny-models"  # built once, shared by checkouts


@dataclass(frozen=True)
class CodePath:
    files_in_order: tuple[str, ...]  # each entry into a file, in order, repeats merged
    calls_in: Counter[str] = field(default_factory=Counter)  # file -> calls into it from another of our files

    @property
    def files(self) -> int:
        return len(set(self.files_in_order))

    @property
    def entries(self) -> int:
        return len(self.files_in_order)

    @property
    def returns(self) -> int:
        return self.entries - self.files

    def per_file(self) -> Counter[str]:
        return Counter(self.files_in_order)

    def report(self, title: str) -> str:
        per_file = self.per_file()
        lines = [f"{title}: {self.files} files, {self.entries} entries, {self.returns} returns to a file already left"]
        lines.append("  entries  calls in  file")

        def row(name: str, n: int) -> str:
            return f"  {n:7d}  {self.calls_in[name]:8d}  {name}"

        if ORCHESTRATOR in per_file:
            lines.append(row(ORCHESTRATOR, per_file[ORCHESTRATOR]) + "  (the orchestrator)")
        lines += [row(name, n) for name, n in per_file.most_common() if name != ORCHESTRATOR]
        lines.append("  order: " + " > ".join(self.files_in_order))
        return "\n".join(lines)


def _own_file(frame: FrameType, root: Path) -> str | None:
    """The file of `frame` itself (relative to `root`) when it is one of ours."""
    filename = frame.f_code.co_filename
    if filename.startswith(str(root)) and "/venv/" not in filename:
        return str(Path(filename).relative_to(root))
    return None


def _ours(frame: FrameType | None, root: Path) -> str | None:
    """The file (relative to `root`) of the innermost frame from `frame` outwards that is in `root`."""
    while frame is not None:
        name = _own_file(frame, root)
        if name is not None:
            return name
        frame = frame.f_back
    return None


def compress(files: list[str | None]) -> tuple[str, ...]:
    """Drop unknowns and merge consecutive repeats."""
    out: list[str] = []
    for name in files:
        if name is not None and (not out or out[-1] != name):
            out.append(name)
    return tuple(out)


def trace(fn: Callable[[], T], root: Path = FUNCTIONS) -> tuple[T, CodePath]:
    """Run `fn` and return its result with the path its calls took through `root`'s files."""
    seen: list[str | None] = []
    calls_in: Counter[str] = Counter()

    def hook(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            seen.append(_ours(frame, root))
            callee = _own_file(frame, root)
            if callee is not None and _ours(frame.f_back, root) not in (callee, None):
                calls_in[callee] += 1
        elif event == "return":
            seen.append(_ours(frame.f_back, root))

    sys.setprofile(hook)
    try:
        result = fn()
    finally:
        sys.setprofile(None)
    return result, CodePath(compress(seen), calls_in)


def _imports() -> tuple[Any, Any, Any, Any, Any]:
    """publish_version, ModelRegistry, Services, handle_message, Settings: from the sub-package layout,
    or from the flat one it replaced, so the same measurement runs on a checkout from before."""
    try:
        publish = importlib.import_module("machbot_fn.admin.publish")
        registry = importlib.import_module("machbot_fn.models.registry")
        pipeline = importlib.import_module("machbot_fn.serving.pipeline")
    except ImportError:
        publish, registry, pipeline = (
            importlib.import_module(f"machbot_fn.{m}") for m in ("publish", "registry", "pipeline")
        )
    settings = importlib.import_module("machbot_fn.settings")
    return (
        publish.publish_version,
        registry.ModelRegistry,
        pipeline.Services,
        pipeline.handle_message,
        settings.Settings,
    )


def main() -> None:
    if not os.environ.get("FIRESTORE_EMULATOR_HOST"):
        sys.exit("needs the Firestore emulator: run scripts/message_path.sh")
    import dataclasses
    import tempfile
    import uuid

    from google.auth.credentials import AnonymousCredentials
    from google.cloud import firestore

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    MemoryBucket = importlib.import_module("memory_bucket").MemoryBucket

    from machbot.default_models import DEFAULT_IDS, tiny_version

    publish_version, ModelRegistry, Services, handle_message, Settings = _imports()
    import machbot_fn

    root = Path(machbot_fn.__file__).resolve().parents[1]  # the functions/ of the checkout measured
    with tempfile.TemporaryDirectory(prefix="machbot-path-") as tmp:
        bucket = MemoryBucket()
        for model_id in DEFAULT_IDS:
            publish_version(bucket, None, tiny_version(model_id, TINY_MODELS), smoke=False)
        settings = dataclasses.replace(Settings.from_env(), cache_dir=Path(tmp) / "cache")
        registry = ModelRegistry(bucket, settings.cache_dir, recheck_seconds=60.0, threads=settings.onnx_threads)
        db = firestore.Client(project="demo-machbot-path", credentials=AnonymousCredentials())
        services = Services(db=db, registry=registry, settings=settings)
        conversation = uuid.uuid4().hex
        titles = ("cold: the first message of a fresh instance (models loaded)", "warm: the next message")
        texts = ("i finally got the job, i am so happy", "and now i am scared i will not be good enough")
        print(f"measuring {root}")
        for title, text in zip(titles, texts, strict=True):
            ref = db.document(f"users/path-tester/messages/{uuid.uuid4().hex}")
            ref.set(
                {"text": text, "model": "bert", "conversationId": conversation, "createdAt": firestore.SERVER_TIMESTAMP}
            )
            outcome, path = trace(partial(handle_message, services, ref), root)
            if outcome != "done":
                sys.exit(f"the message ended {outcome!r}: {ref.get().to_dict()}")
            print(path.report(title))


if __name__ == "__main__":
    main()
