"""A reused Markdown converter renders each text as a fresh one would, with nothing carried over."""

from __future__ import annotations

import contextlib

import markdown
import nh3
from hypothesis import given, settings
from hypothesis import strategies as st

from app.rendering import render_markdown

EXTENSIONS = ["tables", "fenced_code", "sane_lists"]
TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
        "h6", "hr", "i", "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead",
        "tr", "ul"}
ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}


def fresh(text: str, breaks: bool) -> str:
    html = markdown.markdown(text, extensions=EXTENSIONS + (["nl2br"] if breaks else []))
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer")


PIECES = ["# Title", "**bold**", "*it*", "- item", "1. one", "> quote", "```", "    code", "| a | b |",
          "|---|---|", "[link][ref]", "[ref]: https://example.com", "[x](https://example.com)",
          "<script>alert(1)</script>", "한국어 문장", "line", "", "---", "`tick`", "&amp;", "<b>"]
texts = st.lists(st.sampled_from(PIECES), max_size=12).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(first=texts, second=texts, breaks=st.booleans())
def test_reused_converter_matches_a_fresh_one(first, second, breaks):
    assert str(render_markdown(first, breaks=breaks)) == fresh(first, breaks)
    assert str(render_markdown(second, breaks=breaks)) == fresh(second, breaks)


def test_a_reference_defined_in_one_text_does_not_leak_into_the_next():
    render_markdown("[ref]: https://example.com/secret\n\n[here][ref]")
    assert "secret" not in str(render_markdown("[here][ref]"))


def test_a_failed_render_leaves_the_converter_usable():
    with contextlib.suppress(Exception):  # any failure at all; what matters is what follows
        render_markdown(123)  # type: ignore[arg-type]
    assert str(render_markdown("**ok**")) == "<p><strong>ok</strong></p>"


# Plain prose skips the Markdown parse (app.rendering._plain_paragraphs); it must come out as
# the parse would have made it. The alphabet is the fast path's characters plus a few that
# must send a text down the full path, and the line starts that would begin a block.
PROSE = st.lists(st.sampled_from(
    list("aZ가힣09 .,;:?!'\"()/%@#-—–·…‘’“”₩$€¥£\n") + ["\n\n", "1. ", "- ", "  ", "_", "*", "=", "<", "&"]),
    max_size=40).map("".join)


@settings(max_examples=2000, deadline=None)
@given(text=PROSE)
def test_plain_text_renders_as_the_markdown_parse_would(text):
    assert str(render_markdown(text)) == fresh(text, False)


def test_everyday_incident_text_takes_the_quick_path():
    from app.rendering import _plain_paragraphs

    for text in ["Business customers started calling at opening time: every card payment on a "
                 "business account was declined (since 02:00).\n\nReported in #bug-report at 09:04.",
                 "주말 배송 지연 — 토요일 오후 주문 120여 건 미도착.\n고객 37명이 문의했습니다!",
                 "37 business accounts could not pay; see INC-12/2026 \"follow-up\" @ 50%."]:
        assert _plain_paragraphs(text) is not None
        assert str(render_markdown(text)) == fresh(text, False)
    for text in ["1. first", "- item", "# Heading", "a  \nb", "**bold**", "a_b_c", "x\n===", "  lead"]:
        assert _plain_paragraphs(text) is None
