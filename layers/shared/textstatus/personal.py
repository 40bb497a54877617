"""Personal data in provider text: phone numbers masked to their last four digits, emails removed.

The service stores no phone number or email. Providers put them in free text all the same (a
carrier's "The 'To' number +12025550199 is not a valid phone number", a recipient's error message),
so every provider text that is stored or answered passes through `redact_personal` first.
"""

from __future__ import annotations

import re

PHONE_MASK = "*******"
# A number with fewer digits shows none of them: too short to be a phone number worth keeping.
MIN_DIGITS_TO_SHOW = 7

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# International (+ and 7 to 15 digits, separators allowed), North American with separators
# (202-555-0188, (202) 555-0188, 202.555.0188), or a bare run of 10 to 15 digits. Dates and times
# (2026-11-24, 10:00:05) do not match: their groups are 4-2-2 and 2-2-2.
_PHONE = re.compile(r"(?<!\d)(?:\+\d(?:[\s().-]?\d){6,14}|\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}|\d{10,15})(?!\d)")

# An ISO date with an extended year (+275760-09-13) looks like an international number: kept.
_DATE = re.compile(r"[+-]?\d{4,6}-\d{2}-\d{2}")


def masked_phone(*numbers: str | None) -> str | None:
    """The first number given, masked to its last four digits (`*******1234`); None without one."""
    for number in numbers:
        digits = "".join(ch for ch in number or "" if ch in "0123456789")
        if digits:
            return PHONE_MASK + (digits[-4:] if len(digits) >= MIN_DIGITS_TO_SHOW else "****")
    return None


def redact_personal(text: str) -> str:
    """`text` with every email replaced by `[email]` and every phone number masked."""
    if not any(ch.isdigit() or ch == "@" for ch in text):
        return text
    text = _EMAIL.sub("[email]", text)
    return _PHONE.sub(lambda found: _masked(found.group()), text)


def _masked(number: str) -> str:
    return number if _DATE.fullmatch(number) else masked_phone(number) or ""
