"""Sections that features add to the incident page (compensation, apologies, ...).

A panel is a function (incident, user, forms) -> dict with a "template" key and
its context, or None to show nothing. `forms` carries a re-displayed form after
a failed submit, so what the user typed is never lost. Lower `order` shows first.
"""

from __future__ import annotations

from collections.abc import Callable

Panel = Callable[..., dict | None]
_panels: list[tuple[int, Panel]] = []


def panel(fn: Panel | None = None, *, order: int = 50):
    def add(f: Panel) -> Panel:
        _panels.append((order, f))
        _panels.sort(key=lambda item: item[0])
        return f
    return add(fn) if fn is not None else add


def render(incident, user, forms: dict) -> list[dict]:
    return [p for _order, fn in _panels if (p := fn(incident, user, forms)) is not None]
