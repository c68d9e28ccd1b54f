"""Log lines to a file and the console, with a rich progress bar on a terminal."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


class RunLog:
    def __init__(self, path: Path | None = None, every: int = 50) -> None:
        self.path = path
        self.every = every

    def info(self, message: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {message}"
        print(line, flush=True)
        if self.path:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")

    @contextmanager
    def progress(self, title: str, total: int) -> Iterator[Callable[[str], None]]:
        """Yield `advance(status)`: a live bar on a terminal, a log line every `every` steps otherwise."""
        if sys.stdout.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[status]}"),
            ) as bar:
                task = bar.add_task(title, total=total, status="")
                yield lambda status: bar.update(task, advance=1, status=status)
            return
        done = 0
        t0 = time.time()

        def advance(status: str) -> None:
            nonlocal done
            done += 1
            if done % self.every == 0 or done == total:
                rate = done / max(time.time() - t0, 1e-9)
                self.info(f"{title}: {done}/{total} {status} ({rate:.1f} it/s, eta {(total - done) / rate:.0f} s)")

        yield advance
