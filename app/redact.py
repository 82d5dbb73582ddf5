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

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# 010-1234-5678, 01012345678, 010 1234 5678, 02-123-4567, +82 10-1234-5678,
# +82-2-123-4567, +1 (415) 555-0100, +44 20 7946 0958, 1588-1234 (business numbers).
PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)|\d{1,4})(?:[\s.-]?\d{2,4}){1,3}"
    r"|\(?0\d{1,3}\)?[\s.-]?\d{3,4}[\s.-]?\d{4}"
    r"|1[5-9]\d{2}-\d{4}"
    r")(?![\w-])")


@dataclass(frozen=True)
class Removed:
    kind: str  # "known", "email" or "phone"
    value: str


def redact(text: str, known: Iterable[str] = ()) -> tuple[str, list[Removed]]:
    removed: list[Removed] = []
    values = sorted({v.strip() for v in known if v and len(v.strip()) >= 2}, key=len, reverse=True)
    for value in values:
        pattern = re.compile(re.escape(value), re.IGNORECASE)
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
