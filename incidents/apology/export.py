"""Letters out of the tool: Markdown, plain text, a print-ready page and an e-mail file; never
a letter the check finds an error in (an unfilled gap, no named signatory, a contradiction)."""

from __future__ import annotations

import difflib
import re
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from flask import render_template

from app.rendering import render_markdown
from incidents.apology import drafting, services
from incidents.apology.models import ApologyLetter, ApologyVersion, Audience


def check_exportable(letter: ApologyLetter, version: ApologyVersion) -> None:
    """Conflict (409) naming the findings when `version` has an error finding: a letter with
    a gap or nobody to answer for it does not leave the tool, in any format."""
    services.refuse_errors(version, "export")


def to_text(markdown_text: str) -> str:
    text = re.sub(r"^\s{0,3}#{1,6}\s*", "", markdown_text, flags=re.MULTILINE)
    text = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: m.group(1) or m.group(2), text)
    text = re.sub(r"(?<!\*)\*(?!\s)(.+?)(?<!\s)\*(?!\*)", r"\1", text)
    text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"\1 (\2)", text)
    return re.sub(r"^(\s*)[-*+]\s+", r"\1• ", text, flags=re.MULTILINE)


def subject(letter: ApologyLetter) -> str:
    """The customer reads it first: the day it happened, never the incident's internal title."""
    when = drafting.day(drafting.local(letter.incident.detected_at).date(), letter.language,
                        drafting.local(letter.created_at).date())
    if letter.language == "ko":
        return f"{when}에 있었던 문제에 대해 사과드립니다"
    return f"Our apology for the problem on {when}"


def to_html(letter: ApologyLetter, version: ApologyVersion) -> str:
    return render_template("apology/print.html", letter=letter, version=version,
                           body=render_markdown(version.body, breaks=True), subject=subject(letter))


def to_eml(letter: ApologyLetter, version: ApologyVersion) -> bytes:
    """A draft e-mail to the customer, from the first signatory, ready to open and send."""
    if letter.audience != Audience.customer:
        raise ValueError("only customer letters are e-mailed")
    message = EmailMessage()
    message["Subject"] = subject(letter)
    if version.signatories:
        first = version.signatories[0]
        message["From"] = formataddr((first["name"], first["email"]))
    customer = letter.customer
    if customer is not None and "@" in (customer.contact or ""):
        message["To"] = formataddr((customer.name, customer.contact.strip()))
    message["Date"] = formatdate(localtime=False)
    message["X-Unsent"] = "1"  # mail clients open it as a draft to send
    message.set_content(to_text(version.body))
    message.add_alternative(to_html(letter, version), subtype="html")
    return bytes(message)


def diff_rows(old: str, new: str) -> list[tuple[str, str]]:
    """(kind, line) with kind in "same", "removed", "added", for a side-by-side-free diff."""
    rows = []
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        tag, text = line[:2], line[2:]
        if tag == "  ":
            rows.append(("same", text))
        elif tag == "- ":
            rows.append(("removed", text))
        elif tag == "+ ":
            rows.append(("added", text))
    return rows
