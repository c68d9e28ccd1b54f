"""What is left of a message's text when it is shared: plain identifiers are replaced."""

from __future__ import annotations

import pytest

from machbot_fn.sharing.anonymise import anonymise


@pytest.mark.parametrize(
    ("text", "shared"),
    [
        ("mail me at jane.doe+x@example.co.uk tonight", "mail me at [email] tonight"),
        ("see https://example.com/a?b=c and www.foo.org", "see [link] and [link]"),
        ("call me on +44 20 7946 0958 please", "call me on [number] please"),
        ("my number is 555-123-4567", "my number is [number]"),
        ("ask @jane_doe about it", "ask @someone about it"),
        ("i was born in 1999 and i am 26", "i was born in 1999 and i am 26"),
        ("it is 10:30 on 12.05.2026", "it is 10:30 on 12.05.2026"),
        ("  i feel lonely  ", "i feel lonely"),
    ],
)
def test_identifiers_are_replaced_and_the_rest_kept(text: str, shared: str) -> None:
    assert anonymise(text) == shared
