"""Personal data in provider text: phone numbers masked to their last four digits, emails removed.

The service stores no phone number or email. Providers put them in free text all the same (a
carrier's "The 'To' number +12025550199 is not a valid phone number", a recipient's error message),
so every provider text that is stored or answered passes through `redact_personal` first; values
that must stay exact (ids, the sender's correlation data) are checked with `looks_personal` and
not kept as they are when it says so.
"""

from __future__ import annotations

import hashlib
import re

PHONE_MASK = "*******"
# A number with fewer digits shows none of them: too short to be a phone number worth keeping.
MIN_DIGITS_TO_SHOW = 7

# An address: a local part (quoted, or of the usual characters), an @ in any of its spellings
# (full-width, percent-encoded, with a space either side), a domain (or an address literal).
_EMAIL = re.compile(
    r"""(?:"[^"\n]{1,64}"|[\w.+%'-]{1,64})\s?(?:@|\uff20|%40)\s?(?:\[[^\]\n]{1,64}\]|[\w-]{1,63}(?:\.[\w-]{1,63})*)""",
    re.IGNORECASE,
)
# A phone number in any of the ways people write one: 8 digits or more (numbers written next to
# each other become one, masked whole), optionally after a +, in
# groups split by spaces, dots, dashes of any kind, slashes, underscores, parentheses or an encoded
# space (+1 (202) 555-0199, 020 7946 0958, 06 12 34 56 78, 202_555_0199, +1%20202%20555%200199);
# or a bare run of at least MIN_BARE_DIGITS digits. Any script's digits count (`\d`).
_SEPARATOR = r"(?:[\s().\-_/\u2010-\u2015]|%20){0,3}"
_PHONE = re.compile(rf"(?<!\d)(?:\+|%2B)?\(?\d(?:{_SEPARATOR}\d){{7,}}(?!\d)", re.IGNORECASE)
# A date (or the start of a date-time) is not a phone number: 2026-11-24, +275760-09-13.
_DATE = re.compile(r"[+-]?\d{4,6}-\d{2}-\d{2}")
# Digits alone, without a + or a separator, are a phone number from this many on (a North American
# number without its country code); fewer are ids and codes (a TMS id, an 8-digit order number).
MIN_BARE_DIGITS = 10
# E.164's longest number: a longer bare run is a code or a count, and an id of more digits is no phone.
MAX_PHONE_DIGITS = 15


def masked_phone(*numbers: str | None) -> str | None:
    """The first number given, masked to its last four digits (`*******1234`); None without one."""
    for number in numbers:
        digits = "".join(ch for ch in number or "" if ch.isdigit())
        if digits:
            return PHONE_MASK + (digits[-4:] if len(digits) >= MIN_DIGITS_TO_SHOW else "****")
    return None


def redact_personal(text: str) -> str:
    """`text` with every email replaced by `[email]` and every phone number masked."""
    if not any(ch.isdigit() or ch in "@\uff20%" for ch in text):
        return text
    text = _EMAIL.sub("[email]", text)
    return _PHONE.sub(lambda found: _masked(found.group()), text)


def looks_masked(text: str) -> bool:
    """Whether `text` is, or holds, what `redact_personal` leaves in place of personal data."""
    return PHONE_MASK in text or "[email]" in text


def is_personal_id(value: str) -> bool:
    """Whether an identifier is a phone number (the whole of it) or holds an email. Stricter than
    `redact_personal`, which also masks numbers inside text: an id such as a UUID whose first
    groups happen to be digits is not a phone number."""
    found = _PHONE.fullmatch(value.strip())
    if _EMAIL.search(value):
        return True
    digits = sum(ch.isdigit() for ch in value)
    return found is not None and _is_phone(found.group()) and digits <= MAX_PHONE_DIGITS


def opaque_if_personal(value: str, prefix: str = "sha256:") -> str:
    """`value` itself, or, when it is a phone number or holds an email, a digest standing for it:
    still one value per input (duplicates stay duplicates), never the number or the address."""
    if not is_personal_id(value):
        return value
    return prefix + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _is_phone(found: str) -> bool:
    if _DATE.match(found.lstrip("(")):
        return False
    return not found.isdigit() or MIN_BARE_DIGITS <= len(found) <= MAX_PHONE_DIGITS


def _masked(number: str) -> str:
    return (masked_phone(number) or "") if _is_phone(number) else number
