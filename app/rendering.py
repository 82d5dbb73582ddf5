"""Markdown is rendered here, once, and always cleaned by nh3."""

from __future__ import annotations

import markdown
import nh3
from markupsafe import Markup

_TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
         "h6", "hr", "i", "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead",
         "tr", "ul"}
_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}


def render_markdown(text: str | None, breaks: bool = False) -> Markup:
    """`breaks`: a single newline is a line break, as a letter's signature block expects."""
    extensions = ["tables", "fenced_code", "sane_lists"] + (["nl2br"] if breaks else [])
    html = markdown.markdown(text or "", extensions=extensions)
    clean = nh3.clean(html, tags=_TAGS, attributes=_ATTRIBUTES,
                      url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")
    return Markup(clean)
