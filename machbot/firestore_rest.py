"""Firebase Auth and Firestore over their REST APIs, the way a mobile client talks to them.

Everything here runs as a signed-in end user (an ID token), so the security rules apply exactly as
they do to the web app and the mobile apps; nothing uses admin credentials. `machbot chat` and the
emulator tests (tests/emulator.py) share this one implementation; docs/mobile-clients.md shows the
same calls as raw HTTP.

- Local: the Auth and Firestore emulators (FIREBASE_AUTH_EMULATOR_HOST, FIRESTORE_EMULATOR_HOST,
  default 127.0.0.1:9099 and 127.0.0.1:8080), project demo-machbot, any API key.
- A real project: https://identitytoolkit.googleapis.com, https://securetoken.googleapis.com and
  https://firestore.googleapis.com with the project's web API key.
"""

from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

EMULATOR_PROJECT = "demo-machbot"
EMULATOR_API_KEY = "fake-api-key"
REQUEST_TIMEOUT = 30.0
# Refresh the ID token when it has less than this left (tokens live an hour).
REFRESH_MARGIN_SECONDS = 300.0


class RestError(RuntimeError):
    """An Auth or Firestore call failed; `status` is the HTTP status, `reason` the API's own status/message."""

    def __init__(self, message: str, status: int = 0, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


def to_value(value: Any) -> dict[str, Any]:
    """A Python value as a Firestore REST `Value`."""
    if value is None:
        return {"nullValue": None}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"integerValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, datetime):
        return {"timestampValue": value.astimezone(UTC).isoformat().replace("+00:00", "Z")}
    if isinstance(value, dict):
        return {"mapValue": {"fields": {k: to_value(v) for k, v in value.items()}}}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [to_value(v) for v in value]}}
    raise TypeError(f"no Firestore value for {type(value).__name__}")


def _timestamp(text: str) -> datetime:
    # RFC 3339 with up to nanoseconds; Python keeps microseconds.
    head, _, frac = text.rstrip("Z").partition(".")
    micro = (frac + "000000")[:6] if frac else "000000"
    return datetime.fromisoformat(f"{head}.{micro}").replace(tzinfo=UTC)


def from_value(value: dict[str, Any]) -> Any:
    """A Firestore REST `Value` as a Python value (timestamps become aware datetimes)."""
    if "nullValue" in value:
        return None
    if "booleanValue" in value:
        return bool(value["booleanValue"])
    if "integerValue" in value:
        return int(value["integerValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "stringValue" in value:
        return value["stringValue"]
    if "timestampValue" in value:
        return _timestamp(value["timestampValue"])
    if "mapValue" in value:
        return from_fields(value["mapValue"].get("fields", {}))
    if "arrayValue" in value:
        return [from_value(v) for v in value["arrayValue"].get("values", [])]
    if "bytesValue" in value:
        return base64.b64decode(value["bytesValue"])
    if "referenceValue" in value:
        return value["referenceValue"]
    if "geoPointValue" in value:
        return dict(value["geoPointValue"])
    raise ValueError(f"unknown Firestore value {sorted(value)}")


def from_fields(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: from_value(v) for k, v in fields.items()}


def create_write(
    name: str,
    fields: dict[str, Any],
    server_time_fields: tuple[str, ...] = ("createdAt",),
    exists: bool | None = False,
) -> dict[str, Any]:
    """One `Write` for `documents:commit`: set `fields` on document `name`, stamping `server_time_fields`
    with the server's REQUEST_TIME (what the SDKs' serverTimestamp() sends; the rules require it for
    createdAt). `exists=False` makes it a create that fails if the document exists; `exists=True` an
    update of only the given fields; None no precondition."""
    write: dict[str, Any] = {
        "update": {"name": name, "fields": {k: to_value(v) for k, v in fields.items()}},
        "updateTransforms": [{"fieldPath": f, "setToServerValue": "REQUEST_TIME"} for f in server_time_fields],
    }
    if exists is not None:
        write["currentDocument"] = {"exists": exists}
    if exists is True:
        write["updateMask"] = {
            "fieldPaths": list(fields) + [f for f in server_time_fields if f.split(".")[0] not in fields]
        }
    return write


def _api_error(response: requests.Response) -> RestError:
    try:
        body = response.json()
        error = body.get("error", {}) if isinstance(body, dict) else {}
        if isinstance(error, dict):
            reason = str(error.get("status") or error.get("message") or "")
            message = str(error.get("message") or reason)
        else:  # the securetoken endpoint answers {"error": "...", "error_description": "..."}
            reason, message = str(error), str(body.get("error_description") or error)
    except ValueError:
        reason, message = "", response.text[:200]
    return RestError(f"{response.status_code} {message}".strip(), response.status_code, reason)


@dataclass(frozen=True)
class Endpoints:
    """Where Auth and Firestore are, for the emulators or a real project."""

    project: str
    api_key: str
    auth_url: str  # base of identitytoolkit.googleapis.com
    token_url: str  # base of securetoken.googleapis.com
    firestore_url: str  # base of firestore.googleapis.com
    emulated: bool = False

    @classmethod
    def emulators(cls, project: str | None = None) -> Endpoints:
        auth = os.environ.get("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")
        firestore = os.environ.get("FIRESTORE_EMULATOR_HOST", "127.0.0.1:8080")
        return cls(
            project=project or os.environ.get("GCLOUD_PROJECT") or EMULATOR_PROJECT,
            api_key=EMULATOR_API_KEY,
            auth_url=f"http://{auth}/identitytoolkit.googleapis.com",
            token_url=f"http://{auth}/securetoken.googleapis.com",
            firestore_url=f"http://{firestore}",
            emulated=True,
        )

    @classmethod
    def production(cls, project: str, api_key: str) -> Endpoints:
        return cls(
            project=project,
            api_key=api_key,
            auth_url="https://identitytoolkit.googleapis.com",
            token_url="https://securetoken.googleapis.com",
            firestore_url="https://firestore.googleapis.com",
        )

    @property
    def database(self) -> str:
        return f"projects/{self.project}/databases/(default)"

    @property
    def documents_url(self) -> str:
        return f"{self.firestore_url}/v1/{self.database}/documents"

    def document_name(self, path: str) -> str:
        return f"{self.database}/documents/{path}"


@dataclass
class Session:
    """A signed-in end user: reads and writes their own documents through Firestore REST."""

    endpoints: Endpoints
    uid: str
    id_token: str
    refresh_token: str = ""
    expires_at: float = field(default_factory=lambda: time.time() + 3600)
    http: requests.Session = field(default_factory=requests.Session, repr=False)

    # -- signing in ---------------------------------------------------------------------------------

    @classmethod
    def _from_auth(cls, endpoints: Endpoints, body: dict[str, Any], http: requests.Session) -> Session:
        return cls(
            endpoints=endpoints,
            uid=body["localId"],
            id_token=body["idToken"],
            refresh_token=body.get("refreshToken", ""),
            expires_at=time.time() + float(body.get("expiresIn", 3600)),
            http=http,
        )

    @classmethod
    def _accounts(cls, endpoints: Endpoints, method: str, payload: dict[str, Any]) -> Session:
        http = requests.Session()
        try:
            r = http.post(
                f"{endpoints.auth_url}/v1/accounts:{method}",
                params={"key": endpoints.api_key},
                json={**payload, "returnSecureToken": True},
                timeout=REQUEST_TIMEOUT,
            )
        except requests.RequestException as exc:
            raise RestError(f"cannot reach Firebase Auth at {endpoints.auth_url} ({type(exc).__name__})") from exc
        if r.status_code != 200:
            raise _api_error(r)
        return cls._from_auth(endpoints, r.json(), http)

    @classmethod
    def sign_up_anonymously(cls, endpoints: Endpoints) -> Session:
        """A new anonymous user (the Anonymous provider must be enabled on a real project)."""
        return cls._accounts(endpoints, "signUp", {})

    @classmethod
    def sign_in_with_password(cls, endpoints: Endpoints, email: str, password: str) -> Session:
        """An existing email/password user (Identity Toolkit `accounts:signInWithPassword`)."""
        return cls._accounts(endpoints, "signInWithPassword", {"email": email, "password": password})

    def refresh(self) -> None:
        """A new ID token from the refresh token (securetoken `token` endpoint)."""
        r = self.http.post(
            f"{self.endpoints.token_url}/v1/token",
            params={"key": self.endpoints.api_key},
            data={"grant_type": "refresh_token", "refresh_token": self.refresh_token},
            timeout=REQUEST_TIMEOUT,
        )
        if r.status_code != 200:
            raise _api_error(r)
        body = r.json()
        self.id_token = body["id_token"]
        self.refresh_token = body.get("refresh_token", self.refresh_token)
        self.expires_at = time.time() + float(body.get("expires_in", 3600))

    @property
    def headers(self) -> dict[str, str]:
        if self.refresh_token and time.time() > self.expires_at - REFRESH_MARGIN_SECONDS:
            self.refresh()
        return {"Authorization": f"Bearer {self.id_token}"}

    # -- Firestore ----------------------------------------------------------------------------------

    def commit_writes(self, writes: list[dict[str, Any]]) -> requests.Response:
        """POST `documents:commit`; the raw response (200, or 403 when the rules refuse)."""
        return self.http.post(
            f"{self.endpoints.documents_url}:commit",
            json={"writes": writes},
            headers=self.headers,
            timeout=REQUEST_TIMEOUT,
        )

    def commit_document(
        self,
        path: str,
        fields: dict[str, Any],
        server_time_fields: tuple[str, ...] = ("createdAt",),
        exists: bool | None = False,
    ) -> requests.Response:
        """Write one document (a create by default); see `create_write`."""
        write = create_write(self.endpoints.document_name(path), fields, server_time_fields, exists)
        return self.commit_writes([write])

    def get(self, path: str) -> requests.Response:
        """GET one document; the raw response."""
        return self.http.get(f"{self.endpoints.documents_url}/{path}", headers=self.headers, timeout=REQUEST_TIMEOUT)

    def read(self, path: str) -> dict[str, Any] | None:
        """One document's fields as Python values, or None if it does not exist; RestError otherwise."""
        r = self.get(path)
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise _api_error(r)
        return from_fields(r.json().get("fields", {}))

    def list_documents(self, collection: str, page_size: int = 100) -> list[dict[str, Any]]:
        """Every document in a collection (`id` added to each), following page tokens."""
        docs: list[dict[str, Any]] = []
        token = ""
        while True:
            params: dict[str, Any] = {"pageSize": page_size}
            if token:
                params["pageToken"] = token
            r = self.http.get(
                f"{self.endpoints.documents_url}/{collection}",
                params=params,
                headers=self.headers,
                timeout=REQUEST_TIMEOUT,
            )
            if r.status_code != 200:
                raise _api_error(r)
            body = r.json()
            for doc in body.get("documents", []):
                docs.append({"id": doc["name"].rsplit("/", 1)[-1], **from_fields(doc.get("fields", {}))})
            token = body.get("nextPageToken", "")
            if not token:
                return docs

    def create_message(
        self, message_id: str, text: str, model: str, conversation_id: str | None = None
    ) -> requests.Response:
        """Create `users/{uid}/messages/{message_id}` with exactly the client fields of the contract."""
        fields: dict[str, Any] = {"text": text, "model": model}
        if conversation_id:
            fields["conversationId"] = conversation_id
        return self.commit_document(f"users/{self.uid}/messages/{message_id}", fields)


def raise_for_status(response: requests.Response) -> requests.Response:
    """The response if it is a 200, else the API's error as RestError."""
    if response.status_code != 200:
        raise _api_error(response)
    return response
