"""machbot's exceptions. Permanent errors end a message in `error`; a transient one releases the claim.

Each carries the contract's `error.code` and a message meant for the person who sent the message.
"""

from __future__ import annotations


class MachbotError(Exception):
    """Base class. `code` is what the message document's `error.code` says."""

    code = "internal"


class InvalidMessage(MachbotError):
    """The client wrote a message the contract does not allow (bad text, bad field)."""

    code = "invalid_text"

    def __init__(self, message: str, code: str = "invalid_text") -> None:
        super().__init__(message)
        self.code = code


class UnknownModel(MachbotError):
    code = "unknown_model"


class ModelUnavailable(MachbotError):
    """No verified version of the model can be served (corrupt upload, failed smoke test, none published)."""

    code = "model_unavailable"


class ManifestError(ModelUnavailable):
    """A manifest is malformed or does not match its files."""


class TransientError(MachbotError):
    """The bucket or Firestore did not answer. Firestore triggers are not redelivered: the pipeline
    releases its claim and the scheduled sweeper re-drives the message, up to MACHBOT_MAX_ATTEMPTS."""


class StaleEvent(MachbotError):
    """The event is older than the cutoff; answering now would only confuse the user."""

    code = "expired"
