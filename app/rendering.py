"""Markdown is rendered here, once, and always cleaned by nh3."""

from __future__ import annotations

import re
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


# Most incident texts are plain sentences: no character Markdown reads as markup, and no line
# that could start a block (a heading, list, quote, code, rule or table). Such a text becomes
# its paragraphs, each line kept, exactly as Markdown and nh3 would render it (tests hold the
# two to each other), without a parse. Anything else takes the full path.
_PLAIN_TEXT = re.compile(r"[\w .,;:?!'\"()/%@#\-—–·…‘’“”₩$€¥£\n]*")
_PLAIN_LINE_START = re.compile(r"[^\W\d_]|[\"'(‘“]|\d+(?![\d.])")
_PARAGRAPH_BREAK = re.compile(r"\n{2,}")


def _plain_paragraphs(text: str) -> str | None:
    if not _PLAIN_TEXT.fullmatch(text) or "_" in text:  # \w lets "_" (emphasis) through
        return None
    paragraphs = _PARAGRAPH_BREAK.split(text.strip("\n"))
    for paragraph in paragraphs:
        for line in paragraph.split("\n"):
            if not _PLAIN_LINE_START.match(line) or line.endswith(" "):
                return None
    return "\n".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)


def render_markdown(text: str | None, breaks: bool = False) -> Markup:
    """`breaks`: a single newline is a line break, as a letter's signature block expects."""
    if not text:
        return Markup("")
    if not breaks:
        plain = _plain_paragraphs(text)
        if plain is not None:
            return Markup(plain)
    converter = _converter(breaks)
    try:
        html = converter.convert(text)
    finally:
        converter.reset()
    return Markup(_CLEANER.clean(html))
