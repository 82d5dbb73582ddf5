"""Sections that features add to the incident page (compensation, apologies, ...).

A panel is a function (incident, user, forms) -> dict with a "template" key and
its context, or None to show nothing. `forms` carries a re-displayed form after
a failed submit, so what the user typed is never lost.
"""

from __future__ import annotations

from collections.abc import Callable

Panel = Callable[..., dict | None]
_panels: list[Panel] = []


def panel(fn: Panel) -> Panel:
    _panels.append(fn)
    return fn


def render(incident, user, forms: dict) -> list[dict]:
    return [p for fn in _panels if (p := fn(incident, user, forms)) is not None]
