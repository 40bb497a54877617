"""Phone numbers and emails in provider text: masked, and nothing else is."""

from __future__ import annotations

import pytest

from textstatus.personal import is_personal_id, opaque_if_personal, redact_personal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The 'To' number +12025550199 is not a valid phone number",
            "The 'To' number *******0199 is not a valid phone number",
        ),
        ("bad number 202-555-0188, email joe@example.com", "bad number *******0188, email [email]"),
        ("Invalid destination +447700900123 / bob@example.org", "Invalid destination *******0123 / [email]"),
        ("+44 7700 900123 unreachable", "*******0123 unreachable"),
        ("(202) 555-0188", "*******0188"),
        ("recipient %2B12025550177: sent", "recipient *******0177: sent"),
        ("tel:+12025550199;ext", "tel:*******0199;ext"),
        # National formats and separators of every kind, and emails however spelled.
        ("020 7946 0958", "*******0958"),
        ("call 07700 900123 now", "call *******0123 now"),
        ("020 7946 0958 / 07700 900123", "*******0123"),  # next to each other: masked as one
        ("06 12 34 56 78, (02) 9876 5432, 138 0013 8000", "*******5678, *******5432, *******8000"),
        ("+1 (202) 555 - 0199 or 202_555_0199 or +1/202/555/0199", "*******0199 or *******0199 or *******0199"),
        ("+1\u2013202\u2013555\u20130199, 2 0 2 5 5 5 0 1 9 9", "*******0199, *******0199"),
        ("+1%20202%20555%200199", "*******0199"),
        ('bob@localhost, bob@[127.0.0.1], "bob smith"@example.com', "[email], [email], [email]"),
        ("bob%40example.com, bob\uff20example.com, bob @ example.com", "[email], [email], [email]"),
        # Not phone numbers: kept as they are.
        ("order 12345678, code 123456789", "order 12345678, code 123456789"),
        ("2026-11-24 10:00:05", "2026-11-24 10:00:05"),
        ("at 2026-11-24T10:00:05Z code 30008", "at 2026-11-24T10:00:05Z code 30008"),
        ("recipient 165532: sent", "recipient 165532: sent"),
        ("sentOn '+275760-09-13T00:00:00Z' not usable", "sentOn '+275760-09-13T00:00:00Z' not usable"),
        ("0d3630a0-c870-47a8-ac64-faa8dab67abb", "0d3630a0-c870-47a8-ac64-faa8dab67abb"),
        ("HTTP 503 after 3 tries", "HTTP 503 after 3 tries"),
    ],
)
def test_phone_numbers_and_emails_are_masked_and_nothing_else(text: str, expected: str) -> None:
    assert redact_personal(text) == expected


@pytest.mark.parametrize(
    ("value", "personal"),
    [
        ("12025550199", True),
        ("+12025550199", True),
        ("alice@example.com", True),
        ("165532", False),
        ("12345678", False),  # an id, not a phone number: bare digits count from ten on
        ("12345678-1234-5678-1234-567812345678", False),  # a UUID whose groups are digits
        ("0d3630a0-c870-47a8-ac64-faa8dab67abb", False),
    ],
)
def test_an_id_is_personal_only_when_it_is_a_phone_number_or_holds_an_email(value: str, personal: bool) -> None:
    assert is_personal_id(value) is personal
    opaque = opaque_if_personal(value)
    assert (opaque != value) is personal
    assert opaque == opaque_if_personal(value)  # the same digest every time: duplicates stay duplicates
