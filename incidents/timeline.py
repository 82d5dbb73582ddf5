"""What a timeline event says, in the reader's language, as HTML.

The incident page describes up to a hundred events; as a template macro (with an include
per feature) that was a sixth of the busiest page's cost, so each kind has a function.
Features register the describers of their own kinds, as they register panels.
"""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup, escape

# Features call it as `timeline.gettext`, a name message extraction knows.
from app.i18n import markup_gettext as gettext
from app.templating import field_labels, status_label

Describer = Callable[[dict], Markup]
_describers: dict[str, Describer] = {}


def describer(*kinds: str):
    """Register fn(data) -> Markup as what events of `kinds` (EventKind values) say."""
    def add(fn: Describer) -> Describer:
        for kind in kinds:
            _describers[kind] = fn
        return fn
    return add


def describe_event(event) -> Markup:
    """What `event` (a TimelineEvent, or a row with its kind and data) says."""
    kind = event.kind.value
    fn = _describers.get(kind)
    # The blank lines around it are those of the template macro this replaced: the page's
    # HTML stays the same byte for byte.
    return included(fn(event.data) if fn is not None else escape(kind))


def included(text: Markup) -> Markup:
    """`text` with the blank lines a template (the macro, a feature's include) put around
    it. `text` is Markup, so it is joined as it is."""
    return Markup(f"\n\n{text}\n")


@describer("created")
def _created(d: dict) -> Markup:
    return gettext("opened the incident (grade %(grade)s, owner %(owner)s)",
                   grade=d.get("grade", ""), owner=d.get("owner_name") or d.get("owner", ""))


@describer("status_changed")
def _status_changed(d: dict) -> Markup:
    return gettext("moved the status from %(from)s to %(to)s", **{
        "from": status_label(d.get("from", "")), "to": status_label(d.get("to", ""))})


@describer("grade_changed")
def _grade_changed(d: dict) -> Markup:
    return gettext("changed the grade from %(from)s to %(to)s",
                   **{"from": d.get("from", ""), "to": d.get("to", "")})


@describer("owner_changed")
def _owner_changed(d: dict) -> Markup:
    return gettext("handed ownership from %(from)s to %(to)s", **{
        "from": d.get("from_name") or d.get("from", ""), "to": d.get("to_name") or d.get("to", "")})


@describer("edited")
def _edited(d: dict) -> Markup:
    return gettext("edited: %(fields)s", fields=field_labels(d.get("fields", ())))


@describer("customer_added")
def _customer_added(d: dict) -> Markup:
    return gettext("added an affected customer")


@describer("action")
def _action(d: dict) -> Markup:
    return Markup(f"<strong>{gettext('Action taken')}</strong>")


@describer("note")
def _note(d: dict) -> Markup:
    return Markup(f"<strong>{gettext('Note')}</strong>")
