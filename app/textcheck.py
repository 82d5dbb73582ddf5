"""Text hygiene shared by forms and the API: what no database column may hold."""

from __future__ import annotations

import re

# NUL is refused by PostgreSQL; lone surrogates cannot be encoded as UTF-8.
_BAD = re.compile(r"[\x00\ud800-\udfff]")


def bad_text(value: str) -> bool:
    return bool(_BAD.search(value))
