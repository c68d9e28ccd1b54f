from __future__ import annotations

import pytest
from emulator import User


@pytest.fixture
def user(emulators) -> User:
    """A fresh signed-in Auth-emulator user."""
    return User.sign_up()
