"""Markdown rendering never lets script through: classic XSS payloads, direct and on pages."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from app.rendering import render_markdown

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://evil.example/xss.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>script>alert(1)<</script>/script>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<img src=\"jav&#x09;ascript:alert(1)\">",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<body onload=alert(1)>",
    "<a href=\"javascript:alert(1)\">click</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">click</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">click</a>",
    "<a href=\"&#x6A;avascript&colon;alert(1)\">click</a>",
    "<a href=\" javascript:alert(1)\">click</a>",
    "<a href=\"java\nscript:alert(1)\">newline</a>",
    "<a href=\"vbscript:msgbox(1)\">click</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">click</a>",
    "<a href=\"https://example.com\" onclick=\"alert(1)\" onmouseover=\"alert(1)\">hover</a>",
    "<p style=\"background:url(javascript:alert(1))\">styled</p>",
    "<div style=\"width: expression(alert(1))\">ie</div>",
    "<math><mi xlink:href=\"javascript:alert(1)\">m</mi></math>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<form action=\"javascript:alert(1)\"><input type=submit></form>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<link rel=stylesheet href=\"javascript:alert(1)\">",
    "<style>@import 'javascript:alert(1)';</style>",
    "<base href=\"javascript:alert(1)//\">",
    "<table><tr><td background=\"javascript:alert(1)\" onclick=alert(1)>c</td></tr></table>",
    "<a href=\"https://example.com\"><img src=x onerror=alert(1)></a>",
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x]( javascript:alert(1) )",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    "![x](x \"onerror=alert(1)\")",
    "[x][evil]\n\n[evil]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "[a](https://example.com \"t\\\" onmouseover=\\\"alert(1)\")",
    "> <script>alert(1)</script> quoted",
    "- item <img src=x onerror=alert(1)>",
    "**bold<script>alert(1)</script>**",
    "`<script>alert(1)</script>` in code",
    "```\n<script>alert(1)</script>\n```",
]

# Never in rendered Markdown; the first set never anywhere on a page either (the layout has
# its own forms, meta tags and a <details> menu).
ACTIVE_TAGS = {"script", "iframe", "frame", "svg", "math", "img", "object", "embed", "video",
               "audio", "source", "base"}
FORBIDDEN_TAGS = ACTIVE_TAGS | {"form", "input", "style", "link", "meta", "body", "details"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "background", "data", "xlink:href",
                  "srcdoc"}
BAD_SCHEME = re.compile(r"^(?:javascript|vbscript|data):")


class Elements(HTMLParser):
    """Every start tag with its attributes (entities already decoded by the parser)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


# The layout's own scripts: empty elements loading the app's static files, in every page.
OWN_SCRIPT = re.compile(r'<script src="/static/js/[a-z_]+\.js" defer></script>')


def page_problems(page: str) -> list[str]:
    """problems() of a whole page: no active tag at all, apart from the layout's own scripts."""
    return problems(OWN_SCRIPT.sub("", page), ACTIVE_TAGS)


def problems(markup: str, forbidden: set[str] = FORBIDDEN_TAGS) -> list[str]:
    parser = Elements()
    parser.feed(markup)
    parser.close()
    found = []
    for tag, attrs in parser.tags:
        if tag in forbidden:
            found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                found.append(f"{tag} {name}=")
            if name == "style":
                found.append(f"{tag} style=")
            if name in URL_ATTRIBUTES and value is not None:
                # Browsers ignore control characters and spaces inside a scheme.
                url = re.sub(r"[\x00-\x20]", "", html.unescape(value)).lower()
                if BAD_SCHEME.match(url):
                    found.append(f"{tag} {name}={value!r}")
    if re.search(r"<\s*script", markup, re.IGNORECASE):
        found.append("raw <script")
    return found


def test_the_checker_itself_catches_each_kind():
    assert problems('<p><script>x</script></p>') == ["<script>", "raw <script"]
    assert problems('<a href="java&#x09;script:alert(1)">x</a>') == ["a href='java\\tscript:alert(1)'"]
    assert problems('<b onclick="x">x</b><i style="x">y</i>') == ["b onclick=", "i style="]
    assert problems("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>") == []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_is_cleaned(payload):
    out = str(render_markdown(payload))
    assert problems(out) == [], out


def test_all_payloads_in_one_document_with_korean_text():
    text = "\n\n".join(f"## 사례 {i}\n\n고객 안내문입니다. {p}" for i, p in enumerate(PAYLOADS))
    out = str(render_markdown(text))
    assert problems(out) == []
    assert "고객 안내문입니다." in out


def test_ordinary_markdown_survives():
    out = str(render_markdown("**굵게** and [docs](https://example.com/a?b=1) and "
                              "[mail](mailto:ops@example.com)\n\n| a | b |\n|---|---|\n| 1 | 2 |"))
    assert "<strong>굵게</strong>" in out
    assert 'href="https://example.com/a?b=1"' in out and 'href="mailto:ops@example.com"' in out
    assert 'rel="noopener noreferrer"' in out
    assert "<table>" in out and "<td>1</td>" in out
    assert "&lt;script&gt;" in str(render_markdown("`<script>`"))


def test_postmortem_page_shows_payloads_cleaned(client, login, publish_postmortem):
    lead = login("lead")
    body = "## 요약\n\n배탈 신고 처리 기록.\n\n" + "\n\n".join(PAYLOADS)
    pm = publish_postmortem(body, lead=lead)

    response = client.get(f"/incidents/{pm.incident_id}/postmortem")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    previews = re.findall(r'<div class="markdown">(.*?)</div>\s*</section>', page, re.DOTALL)
    assert previews and "배탈 신고 처리 기록." in previews[0]
    assert problems(previews[0]) == []
    # The whole page too (its own forms and meta tags aside): the editor's textarea holds
    # the source, escaped.
    assert page_problems(page) == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_viewer_sees_the_published_postmortem_cleaned(client, login, publish_postmortem):
    pm = publish_postmortem("배탈\n\n" + "\n\n".join(PAYLOADS))
    login("viewer")
    page = client.get(f"/incidents/{pm.incident_id}/postmortem").get_data(as_text=True)
    assert "배탈" in page
    assert page_problems(page) == []


def test_search_page_snippet_escapes_markup(client, login, publish):
    publish("Script in a playbook", summary="배탈 <script>alert(1)</script> <img src=x onerror=alert(1)>")
    login("agent")
    page = client.get("/search?q=배탈").get_data(as_text=True)
    assert re.search(r"<mark[^>]*>배탈</mark>", page)
    assert page_problems(page) == []
    assert "&lt;script&gt;" in page
