"""Phone numbers and emails in provider text: masked, and nothing else is."""

from __future__ import annotations

import pytest

from textstatus.personal import redact_personal


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
        ("recipient %2B12025550177: sent", "recipient %2B*******0177: sent"),
        ("tel:+12025550199;ext", "tel:*******0199;ext"),
        # Not phone numbers: kept as they are.
        ("at 2026-11-24T10:00:05Z code 30008", "at 2026-11-24T10:00:05Z code 30008"),
        ("recipient 165532: sent", "recipient 165532: sent"),
        ("sentOn '+275760-09-13T00:00:00Z' not usable", "sentOn '+275760-09-13T00:00:00Z' not usable"),
        ("0d3630a0-c870-47a8-ac64-faa8dab67abb", "0d3630a0-c870-47a8-ac64-faa8dab67abb"),
        ("HTTP 503 after 3 tries", "HTTP 503 after 3 tries"),
    ],
)
def test_phone_numbers_and_emails_are_masked_and_nothing_else(text: str, expected: str) -> None:
    assert redact_personal(text) == expected
