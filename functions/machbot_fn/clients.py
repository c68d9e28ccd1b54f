"""Firebase clients for the function and the CLI: real credentials in production, anonymous on emulators."""

from __future__ import annotations

import os
from functools import cache

import firebase_admin
import google.cloud.storage as storage
from firebase_admin import credentials
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore

from machbot_fn.settings import default_bucket, project_id


class EmulatorCredential(credentials.Base):  # type: ignore[misc]  # firebase-admin ships no types
    """firebase-admin still asks google.auth for credentials when emulators are set; they need none."""

    def get_credential(self) -> AnonymousCredentials:
        return AnonymousCredentials()  # type: ignore[no-untyped-call]


def using_emulators() -> bool:
    return os.environ.get("FUNCTIONS_EMULATOR") == "true" or bool(os.environ.get("FIRESTORE_EMULATOR_HOST"))


@cache
def firebase_app() -> firebase_admin.App:
    try:
        return firebase_admin.get_app()
    except ValueError:  # not initialised yet
        pass
    options = {"projectId": project_id(), "storageBucket": default_bucket()}
    if using_emulators():
        return firebase_admin.initialize_app(EmulatorCredential(), options)
    return firebase_admin.initialize_app(options=options)


@cache
def firestore_client() -> firestore.Client:
    from firebase_admin import firestore as admin_firestore

    client: firestore.Client = admin_firestore.client(firebase_app())
    return client


@cache
def storage_client() -> storage.Client:
    if os.environ.get("STORAGE_EMULATOR_HOST"):
        anonymous = AnonymousCredentials()  # type: ignore[no-untyped-call]
        return storage.Client(project=project_id(), credentials=anonymous)
    return storage.Client(project=project_id())


def bucket(name: str | None = None) -> storage.Bucket:
    # client.bucket() makes no request (get_bucket() is not served by the Storage emulator).
    return storage_client().bucket(name or default_bucket())
