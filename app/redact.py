"""Removing customers' personal data from text that leaves the incident (playbooks, search).

Known values (the affected customers' names, contacts and references as
recorded) are removed wherever they appear, and so is anything shaped like an
e-mail address or a phone number (Korean and international formats).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

MARKER = "[redacted]"

# ASCII classes throughout: in Python `\w` also matches Hangul, so a boundary written with
# it fails before a particle ("010-1234-5678로", "kim@example.com으로") and the value stays.
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# 010-1234-5678, 01012345678, 010 1234 5678, 02-123-4567, (02) 123-4567, +82 10-1234-5678,
# +82-2-123-4567, +1 (415) 555-0100, +44 20 7946 0958, 1588-1234 (business numbers: 15xx,
# 16xx, 18xx, so a year range such as 1999-2024 is left alone). A leading 00 is not a Korean
# area code, so ten-digit references such as 0012345678 stay too. Brackets only as a pair
# around the area code, so "(010-1234-5678)" keeps its own.
PHONE = re.compile(
    r"(?<![A-Za-z0-9_+])(?:"
    r"\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)|\d{1,4})(?:[\s.-]?\d{2,4}){1,3}"
    r"|(?:\(0[1-9]\d{0,2}\)|0[1-9]\d{0,2})[\s.-]?\d{3,4}[\s.-]?\d{4}"
    r"|1[568]\d{2}-\d{4}"
    r")(?![A-Za-z0-9_-])", re.ASCII)
_LATIN_EDGE = re.compile(r"[A-Za-z0-9]")


def _known_pattern(value: str) -> re.Pattern:
    """A known value anywhere, case-insensitively, any run of spaces inside it matching any.

    A value that starts or ends with a Latin letter or digit must not touch another one
    there, so a customer called "Han" or "Park" leaves "handled" and "parking" alone; Hangul
    has no such edge, so 홍길동 goes from 홍길동님이 too.
    """
    body = r"\s+".join(re.escape(part) for part in value.split())
    before = r"(?<![A-Za-z0-9])" if _LATIN_EDGE.match(value[0]) else ""
    after = r"(?![A-Za-z0-9])" if _LATIN_EDGE.match(value[-1]) else ""
    return re.compile(before + body + after, re.IGNORECASE)


@dataclass(frozen=True)
class Removed:
    kind: str  # "known", "email" or "phone"
    value: str


def redact(text: str, known: Iterable[str] = ()) -> tuple[str, list[Removed]]:
    removed: list[Removed] = []
    values = sorted({v.strip() for v in known if v and len(v.strip()) >= 2}, key=len, reverse=True)
    for value in values:
        pattern = _known_pattern(value)
        if pattern.search(text):
            removed.append(Removed("known", value))
            text = pattern.sub(MARKER, text)
    for kind, pattern in (("email", EMAIL), ("phone", PHONE)):
        def swap(match: re.Match, kind=kind) -> str:
            removed.append(Removed(kind, match.group()))
            return MARKER
        text = pattern.sub(swap, text)
    return text, removed


def clean(text: str, known: Iterable[str] = ()) -> str:
    return redact(text, known)[0]
