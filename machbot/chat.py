"""`machbot chat`: a terminal chat that talks to Firestore exactly like a mobile client.

It signs in as an end user, writes each line as `users/{uid}/messages/{id}` with Firestore REST
`documents:commit` (the REQUEST_TIME transform for createdAt, a create-only precondition), so the
security rules apply as they do to the apps, then polls that document until the function has
answered and prints the emotion, the reply and which models served it.

Where it connects:
- by default the local emulators (`machbot run`): an anonymous account in the Auth emulator;
- a real project: `--project ID --api-key KEY` (the web API key from the Firebase console), and
  `--email/--password` for an email/password account (Identity Toolkit `accounts:signInWithPassword`),
  or no email for an anonymous account (the Anonymous provider must be enabled).

In the chat: `/model ID` switches the model, `/models` lists the catalog, `/new` starts a new
conversation, `/quit` (or Ctrl-D) leaves; Ctrl-C leaves at any time.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from machbot.firestore_rest import Endpoints, RestError, Session

EMOTION_STYLE = {
    "sadness": "blue",
    "joy": "yellow",
    "love": "magenta",
    "anger": "red",
    "fear": "purple",
    "surprise": "cyan",
}
MAX_TEXT = 2000
FINAL = ("done", "error")
CLASSIFICATION = "text-classification"


class ChatError(Exception):
    """Something the user can fix (not signed in, emulators down, unknown model): one line, non-zero exit."""


def say(console: Console, *objects: Any) -> None:
    """Print without rich's automatic highlighting (numbers and paths in replies stay plain)."""
    console.print(*objects, highlight=False)


# -- connecting ---------------------------------------------------------------------------------------


def connect(
    project: str | None = None, api_key: str | None = None, email: str | None = None, password: str | None = None
) -> Session:
    """Sign in: the emulators unless an API key is given; email/password if an email is given, else anonymous."""
    if api_key:
        if not project:
            raise ChatError("--api-key needs --project (the Firebase project id)")
        endpoints = Endpoints.production(project, api_key)
    else:
        endpoints = Endpoints.emulators(project)
    try:
        if email:
            if not password:
                raise ChatError("--email needs a password (--password or MACHBOT_PASSWORD)")
            return Session.sign_in_with_password(endpoints, email, password)
        return Session.sign_up_anonymously(endpoints)
    except RestError as exc:
        if exc.status == 0 and not api_key:
            host = endpoints.auth_url.split("/")[2]
            raise ChatError(f"cannot reach the Auth emulator at {host}: is `machbot run` up?") from exc
        raise ChatError(f"sign-in failed: {exc}") from exc


# -- the catalog ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogEntry:
    id: str
    name: str
    version: str
    status: str
    trained: bool
    accuracy: float | None  # on the tweets test split
    chat_f1: float | None = None  # mean macro-F1 on the four chat-like test sets

    @property
    def pickable(self) -> bool:
        return self.status != "invalid"


def catalog(session: Session) -> list[CatalogEntry]:
    """The emotion classifiers in `models/*` (public read), best on chat-like text first."""
    try:
        docs = session.list_documents("models")
    except RestError as exc:
        raise ChatError(f"could not read the model catalog: {exc}") from exc
    entries = []
    for d in docs:
        if d.get("task") not in (CLASSIFICATION, "ensemble"):
            continue
        raw = d.get("metrics")
        metrics: dict[str, Any] = raw if isinstance(raw, dict) else {}
        accuracy, chat_f1 = metrics.get("accuracy"), metrics.get("chat_macro_f1")
        entries.append(
            CatalogEntry(
                id=str(d["id"]),
                name=str(d.get("displayName") or d["id"]),
                version=str(d.get("version") or ""),
                status=str(d.get("status") or ""),
                trained=d.get("trained") is not False,
                accuracy=float(accuracy) if isinstance(accuracy, int | float) else None,
                chat_f1=float(chat_f1) if isinstance(chat_f1, int | float) else None,
            )
        )
    return sorted(entries, key=lambda e: (-(e.chat_f1 if e.chat_f1 is not None else -1.0), e.id))


def best_model(entries: list[CatalogEntry], fallback: str = "bert") -> str:
    """The pickable model best on chat-like text (the default, as in the web app), else `fallback`."""
    scored = [e for e in entries if e.pickable and e.chat_f1 is not None]
    return max(scored, key=lambda e: e.chat_f1 or 0.0).id if scored else fallback


def check_model(model: str, entries: list[CatalogEntry]) -> str | None:
    """Why `model` cannot be used, or None. An empty catalog is not checked (the function will say)."""
    if not entries:
        return None
    by_id = {e.id: e for e in entries}
    if model not in by_id:
        return f"no model {model!r} in the catalog; available: {', '.join(by_id)}"
    if not by_id[model].pickable:
        return f"{model} is unavailable right now; pick another: {', '.join(e.id for e in entries if e.pickable)}"
    return None


def catalog_table(entries: list[CatalogEntry], current: str) -> Table:
    table = Table("", "id", "name", "version", "chat F1", "tweets acc", "status", box=None, pad_edge=False)
    for e in entries:
        table.add_row(
            "›" if e.id == current else "",
            e.id,
            e.name,
            e.version,
            f"{e.chat_f1:.1%}" if e.chat_f1 is not None else "-",
            f"{e.accuracy:.1%}" if e.accuracy is not None else "-",
            (e.status or "-") + ("" if e.trained else " (untrained)"),
        )
    return table


# -- one turn -------------------------------------------------------------------------------------------


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def check_text(text: str) -> str | None:
    """Why the rules would refuse `text`, or None."""
    if not text.strip():
        return "type something to send"
    if utf16_length(text) > MAX_TEXT:
        return f"the message is too long ({utf16_length(text)}/{MAX_TEXT} characters)"
    return None


def send(session: Session, text: str, model: str, conversation_id: str | None) -> str:
    """Create the message as a mobile client; returns its document path."""
    message_id = uuid.uuid4().hex
    try:
        response = session.create_message(message_id, text, model, conversation_id)
    except RestError as exc:
        raise ChatError(str(exc)) from exc
    except OSError as exc:  # requests' connection errors
        raise ChatError(f"could not reach Firestore: {exc}") from exc
    if response.status_code == 403:
        raise ChatError("the security rules refused the message (check the text and the model id)")
    if response.status_code != 200:
        raise ChatError(f"the message was not sent: {response.status_code} {response.text[:200]}")
    return f"users/{session.uid}/messages/{message_id}"


def wait_answer(
    session: Session, path: str, timeout: float = 120.0, sleep: Callable[[float], None] = time.sleep
) -> dict[str, Any]:
    """Poll the message until the function has answered (done or error)."""
    deadline = time.monotonic() + timeout
    delay = 0.1
    doc: dict[str, Any] = {}
    while True:
        try:
            doc = session.read(path) or {}
        except RestError as exc:
            raise ChatError(f"could not read the answer: {exc}") from exc
        state = (doc.get("status") or {}).get("state") if isinstance(doc.get("status"), dict) else None
        if state in FINAL:
            return doc
        if time.monotonic() > deadline:
            raise ChatError(f"no answer after {timeout:.0f} s (state: {state or 'pending'}); is the function running?")
        sleep(delay)
        delay = min(delay * 1.5, 1.0)


# -- rendering ------------------------------------------------------------------------------------------


def format_version(version: Any) -> str:
    v = str(version or "")
    if "+" in v:
        return f"{len([p for p in v.split('+') if p])} models"
    return f"v{v}" if v[:1].isdigit() else v


def format_ms(ms: Any) -> str:
    if not isinstance(ms, int | float):
        return "-"
    if ms < 10:
        return f"{ms:.1f} ms"
    return f"{ms:.0f} ms" if ms < 10_000 else f"{ms / 1000:.1f} s"


def served_by_line(doc: dict[str, Any]) -> str:
    """`answered by bert v3 · 88 ms · reply by t5 v1`, as the web app writes it."""
    served = doc.get("servedBy") or {}
    classifier = served.get("classifier") or {}
    name = classifier.get("id") or doc.get("model") or "unknown model"
    parts = [f"answered by {name} {format_version(classifier.get('version'))}".rstrip()]
    timings = doc.get("timings") or {}
    if isinstance(timings.get("totalMs"), int | float):
        parts.append(format_ms(timings["totalMs"]) + (" (cold start)" if timings.get("coldStart") else ""))
    replier = served.get("replier") or {}
    if replier.get("id"):
        by = f"{replier['id']} {format_version(replier.get('version'))}".rstrip()
        source = (doc.get("reply") or {}).get("source")
        if source == "pool":
            parts.append(f"reply: what people answered to a similar message ({by})")
        elif source == "refined":
            parts.append(f"reply by {by}, reworded from what people answered to a similar message")
        else:
            parts.append(f"reply by {by}")
    return " · ".join(parts)


def emotion_line(emotion: dict[str, Any]) -> str:
    """`joy 93%  (sadness 3% · love 2%)`, or `not sure (maybe anger 31%)  (...)`, with markup."""
    label = str(emotion.get("label", "?"))
    score = emotion.get("score")
    head = f"[bold {EMOTION_STYLE.get(label, 'white')}]{escape(label)} {score:.0%}[/]" if score is not None else label
    if emotion.get("unsure") is True:
        head = f"[bold]not sure[/] (maybe {escape(label)}{f' {score:.0%}' if score is not None else ''})"
    scores = emotion.get("scores")
    others = (
        sorted(((p, k) for k, p in scores.items() if k != label), reverse=True)[:2] if isinstance(scores, dict) else []
    )
    rest = " · ".join(f"{escape(k)} {p:.0%}" for p, k in others if isinstance(p, int | float))
    return f"{head}  [dim]({rest})[/]" if rest else head


def render_answer(console: Console, doc: dict[str, Any]) -> None:
    state = (doc.get("status") or {}).get("state")
    if state == "done":
        if isinstance(doc.get("emotion"), dict):
            say(console, f"[dim]emotion[/] {emotion_line(doc['emotion'])}")
        reply = (doc.get("reply") or {}).get("text", "")
        say(console, f"[bold green]machbot ›[/] {escape(reply)}")
        similar = [t for t in doc.get("similar") or [] if isinstance(t, dict) and isinstance(t.get("text"), str)]
        if similar:
            say(console, "[dim]others felt this too:[/]")
            for thought in similar:
                say(console, f"  [italic]“{escape(thought['text'])}”[/]")
        say(console, f"[dim]{escape(served_by_line(doc))}[/]")
    else:
        error = doc.get("error") or {}
        code = error.get("code", "error")
        say(console, f"[bold red]error ({escape(str(code))}):[/] [red]{escape(str(error.get('message', '')))}[/]")


# -- the loop -------------------------------------------------------------------------------------------


@dataclass
class ChatState:
    model: str
    conversation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    entries: list[CatalogEntry] = field(default_factory=list)


HELP = "/model ID switch model · /models list them · /new new conversation · /quit leave"


def handle_command(console: Console, session: Session, state: ChatState, line: str) -> bool:
    """Run a /command; False means quit."""
    cmd, _, arg = line.partition(" ")
    arg = arg.strip()
    if cmd in ("/quit", "/exit", "/q"):
        return False
    if cmd == "/models":
        state.entries = catalog(session)
        say(console, catalog_table(state.entries, state.model) if state.entries else "[yellow]the catalog is empty[/]")
    elif cmd == "/model":
        if not arg:
            say(console, f"model: [bold]{escape(state.model)}[/]")
        else:
            state.entries = catalog(session)
            problem = check_model(arg, state.entries)
            if problem:
                say(console, f"[red]{escape(problem)}[/]")
            else:
                state.model = arg
                say(console, f"model: [bold]{escape(arg)}[/]")
    elif cmd == "/new":
        state.conversation_id = str(uuid.uuid4())
        say(console, f"[dim]new conversation {state.conversation_id}[/]")
    else:
        say(console, f"[yellow]unknown command {escape(cmd)}[/] ({HELP})")
    return True


def turn(console: Console, session: Session, state: ChatState, text: str, timeout: float) -> None:
    problem = check_text(text)
    if problem:
        say(console, f"[red]not sent: {escape(problem)}[/]")
        return
    try:
        with console.status("[dim]machbot is thinking…[/]", spinner="dots"):
            path = send(session, text, state.model, state.conversation_id)
            doc = wait_answer(session, path, timeout)
    except ChatError as exc:
        say(console, f"[bold red]error:[/] [red]{escape(str(exc))}[/]")
        return
    render_answer(console, doc)


def run_chat(
    console: Console,
    session: Session,
    model: str | None,
    conversation_id: str | None = None,
    timeout: float = 120.0,
    read_line: Callable[[], str] | None = None,
) -> None:
    """The interactive loop; returns on /quit, end of input or Ctrl-C. `model` None: the catalog's best on chat."""
    entries = catalog(session)
    model = model or best_model(entries)
    state = ChatState(model=model)
    if conversation_id:
        state.conversation_id = conversation_id
    state.entries = entries
    problem = check_model(model, state.entries)
    if problem:
        raise ChatError(problem)

    where = "local emulators" if session.endpoints.emulated else f"project {session.endpoints.project}"
    say(console, f"[bold]machbot chat[/] · {where} · signed in as [cyan]{session.uid}[/]")
    if state.entries:
        say(
            console,
            "models: "
            + ", ".join(
                f"[bold]{escape(e.id)}[/]" if e.id == model else escape(e.id) for e in state.entries if e.pickable
            ),
        )
    else:
        say(console, "[yellow]the model catalog is empty: are models published (`machbot run`)?[/]")
    say(console, f"model [bold]{escape(model)}[/] · conversation {state.conversation_id}")
    say(console, f"[dim]{HELP}[/]")

    interactive = console.is_terminal
    prompt = "[bold]you ›[/] "
    if read_line is None:

        def read_line() -> str:
            return console.input(prompt) if interactive else input()

    try:
        while True:
            try:
                line = read_line()
            except EOFError:
                break
            text = line.strip()
            if not interactive and text:
                say(console, f"{prompt}{escape(text)}")
            if not text:
                continue
            if text.startswith("/"):
                try:
                    if not handle_command(console, session, state, text):
                        break
                except ChatError as exc:
                    say(console, f"[bold red]error:[/] [red]{escape(str(exc))}[/]")
                continue
            turn(console, session, state, text, timeout)
    except KeyboardInterrupt:
        say(console)
    say(console, "[dim]bye[/]")
