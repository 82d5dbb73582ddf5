"""Markdown is rendered here, once, and always cleaned by nh3."""

from __future__ import annotations

import threading

import markdown
import nh3
from markupsafe import Markup

_TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
         "h6", "hr", "i", "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead",
         "tr", "ul"}
_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}
_EXTENSIONS = ["tables", "fenced_code", "sane_lists"]
_CLEANER = nh3.Cleaner(tags=_TAGS, attributes=_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                       link_rel="noopener noreferrer")

# Building a Markdown converter (loading its extensions) costs more than most conversions,
# so each thread keeps one per option and resets it between texts; a converter holds
# per-text state, hence one per thread.
_converters = threading.local()


def _converter(breaks: bool) -> markdown.Markdown:
    key = "letter" if breaks else "plain"
    converter = getattr(_converters, key, None)
    if converter is None:
        converter = markdown.Markdown(extensions=_EXTENSIONS + (["nl2br"] if breaks else []))
        setattr(_converters, key, converter)
    return converter


def render_markdown(text: str | None, breaks: bool = False) -> Markup:
    """`breaks`: a single newline is a line break, as a letter's signature block expects."""
    converter = _converter(breaks)
    try:
        html = converter.convert(text or "")
    finally:
        converter.reset()
    return Markup(_CLEANER.clean(html))
