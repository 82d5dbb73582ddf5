"""Apology pages: writing from the incident page, findings beside the text in the reader's
language, versions and their diff, approval with an override reason, and the exports."""

from __future__ import annotations

import email
import re
from email import policy

import pytest
from flask_babel import force_locale, gettext

from app.extensions import db
from incidents.apology import services
from incidents.apology.check import MESSAGES
from incidents.apology.models import ApologyLetter, LetterStatus
from tests.apology.test_drafts import documented_incident, draft


@pytest.fixture
def incident(make_user, make_incident):
    return documented_incident(make_user, make_incident, "ko")


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def in_locale(app, msgid: str, locale: str) -> str:
    """What the app shows for `msgid` in `locale`: the Korean catalogue may lag behind."""
    with app.test_request_context(), force_locale(locale):
        return gettext(msgid)


def test_write_apology_from_the_incident_page(client, login, incident):
    login("agent")
    html = page(client, f"/incidents/{incident.id}")
    assert 'id="apologies"' in html and "/apologies" in html
    response = client.post(f"/incidents/{incident.id}/apologies", data={
        "audience": "customer", "customer": str(incident.customers[0].id), "language": "ko"})
    assert response.status_code == 302
    letter = db.session.get(ApologyLetter, int(response.location.rsplit("/", 1)[1]))
    assert letter.customer == incident.customers[0] and letter.language == "ko"
    html = page(client, f"/incidents/{incident.id}")
    assert f"/apologies/{letter.id}" in html


def test_viewers_cannot_write(client, login, incident):
    login("viewer")
    assert "/apologies\"" not in page(client, f"/incidents/{incident.id}").split('id="apologies"')[1]
    response = client.post(f"/incidents/{incident.id}/apologies", data={
        "audience": "public", "language": "en"})
    assert response.status_code == 403


def test_a_customer_letter_needs_a_customer(client, login, incident):
    login("agent")
    response = client.post(f"/incidents/{incident.id}/apologies", data={
        "audience": "customer", "customer": "999999", "language": "ko"})
    assert response.status_code == 422
    assert db.session.query(ApologyLetter).count() == 0


@pytest.mark.parametrize("ui", ["en", "ko"])
def test_findings_beside_the_text_in_the_readers_language(app, client, login, incident, ui):
    letter = draft(incident.owner, incident, "customer", "ko")
    body = letter.current.body.replace("다시 한번 깊이 사과드립니다.", "불편을 느끼셨다면 사과드립니다.")
    services.edit(incident.owner, letter, body)
    db.session.commit()
    login("agent", locale=ui)
    html = page(client, f"/apologies/{letter.id}")
    assert f'<html lang="{ui}"' in html
    finding = re.search(r'<li class="finding finding-error" data-code="conditional_apology">(.*?)</li>',
                        html, re.S)
    assert finding
    message = in_locale(app, str(MESSAGES["conditional_apology"]._args[0]), ui)
    assert message.replace('"', "&#34;") in finding.group(1) or message in finding.group(1)
    assert "<q>느끼셨다면 사과</q>" in finding.group(1)
    assert in_locale(app, "Conditional apology", ui) in finding.group(1)
    # The letter text is in the editor and in the preview.
    assert "불편을 느끼셨다면 사과드립니다." in html
    assert 'data-check-url="/apologies/check"' in html and 'data-language="ko"' in html


def test_version_list_and_diff(client, login, incident):
    letter = draft(incident.owner, incident, "customer", "ko")
    old_line = next(line for line in letter.current.body.splitlines() if line.startswith("이번 일의 원인은"))
    services.edit(incident.owner, letter, letter.current.body.replace(old_line, "원인은 파악 중입니다."))
    db.session.commit()
    login("agent")
    html = page(client, f"/apologies/{letter.id}")
    assert f"/apologies/{letter.id}?version=1" in html and f"/apologies/{letter.id}?version=2" in html
    assert f"/apologies/{letter.id}/diff?a=1&amp;b=2" in html
    assert 'data-code="missing_cause"' in html
    old = page(client, f"/apologies/{letter.id}?version=1")
    assert old_line in old
    page(client, f"/apologies/{letter.id}?version=9", 404)
    diff = page(client, f"/apologies/{letter.id}/diff?a=1&b=2")
    removed = re.findall(r'diff-removed".*?</span>(?:<span class="sr-only">.*?</span>)?(.*?)</div>', diff)
    added = re.findall(r'diff-added".*?</span>(?:<span class="sr-only">.*?</span>)?(.*?)</div>', diff)
    assert removed == [old_line] and added == ["원인은 파악 중입니다."]
    assert 'class="diff-line diff-same"' in diff
    page(client, f"/apologies/{letter.id}/diff?a=1&b=7", 404)


def test_saving_through_the_form(client, login, incident):
    letter = draft(incident.owner, incident, "customer", "ko")
    login("agent")
    crlf = letter.current.body.replace("\n", "\r\n")  # how browsers submit a textarea
    form = {"body": crlf, "version": "1", "signatories": [incident.owner.email]}
    assert client.post(f"/apologies/{letter.id}", data=form).status_code == 302
    assert len(letter.versions) == 1  # unchanged text saves nothing
    form["body"] = crlf + "\r\n추신: 쿠폰은 3개월 동안 쓰실 수 있습니다."
    assert client.post(f"/apologies/{letter.id}", data=form).status_code == 302
    db.session.refresh(letter)
    assert len(letter.versions) == 2 and "\r" not in letter.current.body
    stale = client.post(f"/apologies/{letter.id}", data={**form, "body": "other text"})
    assert stale.status_code == 409
    assert len(letter.versions) == 2


def test_approve_form_asks_for_a_reason_only_when_errors_exist(client, login, incident):
    letter = draft(incident.owner, incident, "customer", "ko")
    login("lead")
    html = page(client, f"/apologies/{letter.id}")
    assert 'name="override_reason"' not in html and f"/apologies/{letter.id}/approve" in html
    body = letter.current.body.replace("김민지\n고객경험팀장", "임직원 일동")
    services.edit(incident.owner, letter, body)
    db.session.commit()
    assert [f["code"] for f in letter.current.findings] == ["collective_signature"]
    html = page(client, f"/apologies/{letter.id}")
    assert 'name="override_reason"' in html
    refused = client.post(f"/apologies/{letter.id}/approve", data={"override_reason": ""})
    assert refused.status_code == 409
    response = client.post(f"/apologies/{letter.id}/approve",
                           data={"override_reason": "Signed by the owner above as well."})
    assert response.status_code == 302
    db.session.refresh(letter)
    assert letter.status == LetterStatus.approved
    timeline = page(client, f"/incidents/{incident.id}")
    assert "collective_signature" in timeline


def test_agents_and_leads_on_public_notices_are_refused(client, login, incident):
    notice = draft(incident.owner, incident, "public", "ko")
    letter = draft(incident.owner, incident, "customer", "ko")
    login("agent")
    assert client.post(f"/apologies/{letter.id}/approve", data={}).status_code == 403
    login("lead")
    html = page(client, f"/apologies/{notice.id}")
    assert f"/apologies/{notice.id}/approve" not in html
    assert client.post(f"/apologies/{notice.id}/approve", data={}).status_code == 403
    assert client.post(f"/apologies/{letter.id}/approve", data={}).status_code == 302
    assert client.post(f"/apologies/{letter.id}/sent", data={"channel": "email"}).status_code == 302
    db.session.refresh(letter)
    assert letter.status == LetterStatus.sent
    html = page(client, f"/apologies/{letter.id}")
    assert 'id="letter-form"' not in html  # a sent letter is not edited


def test_live_check(client, login):
    login("agent")
    response = client.post("/apologies/check", json={"text": "We are sorry if anyone was offended.",
                                                      "language": "en"})
    assert response.status_code == 200
    finding = next(f for f in response.json["findings"] if f["code"] == "conditional_apology")
    assert finding["title"] == "Conditional apology" and finding["span"] == [7, 15]
    assert client.post("/apologies/check", json={"text": "x" * 50_001}).status_code == 422
    assert client.post("/apologies/check", json={"text": None}).status_code == 422
    login("viewer")
    assert client.post("/apologies/check", json={"text": "hi"}).status_code == 403


# --- exports ---------------------------------------------------------------------------------

def test_markdown_and_text_exports(client, login, incident):
    letter = draft(incident.owner, incident, "customer", "ko")
    login("viewer")
    md = client.get(f"/apologies/{letter.id}/export.md")
    assert md.status_code == 200 and md.mimetype == "text/markdown"
    assert f"apology-{incident.id}-{letter.id}-v1.md" in md.headers["Content-Disposition"]
    assert md.get_data(as_text=True) == letter.current.body
    txt = client.get(f"/apologies/{letter.id}/export.txt")
    assert txt.mimetype == "text/plain" and "attachment" in txt.headers["Content-Disposition"]
    text = txt.get_data(as_text=True)
    assert "고객님께 드리는 보상" in text and "환불" in text
    for marker in ("#", "**", "- ", "]("):
        assert marker not in text, marker
    assert "• " in text


def test_text_export_strips_markdown_markers(make_user, incident):
    from incidents.apology.export import to_text

    text = to_text("# Title\n\n**Bold** and *soft* and [our page](https://example.com).\n\n"
                   "- one\n* two\n+ three\n")
    assert text == "Title\n\nBold and soft and our page (https://example.com).\n\n• one\n• two\n• three\n"


def test_print_page(client, login, incident):
    letter = draft(incident.owner, incident, "customer", "ko")
    login("viewer")
    response = client.get(f"/apologies/{letter.id}/export.html")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<html lang="ko">' in html and "print.css" in html
    assert "<title>[사과드립니다] 결제 페이지 중복 청구</title>" in html
    assert "<h2>고객님께 드리는 보상</h2>" in html and "<li>환불 ₩20,000" in html
    assert "##" not in html


def test_eml_for_a_customer_letter(client, login, incident):
    letter = draft(incident.owner, incident, "customer", "ko")
    login("viewer")
    response = client.get(f"/apologies/{letter.id}/export.eml")
    assert response.status_code == 200 and response.mimetype == "message/rfc822"
    message = email.message_from_bytes(response.data, policy=policy.default)
    assert message["Subject"] == "[사과드립니다] 결제 페이지 중복 청구"
    assert message["From"].addresses[0].display_name == "김민지"
    assert message["From"].addresses[0].addr_spec == "minji@example.com"
    assert message["To"].addresses[0].addr_spec == "jiwoo@example.com"
    assert message["To"].addresses[0].display_name == "이지우"
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "이번 일의 원인은 결제 서버 설정 변경 오류입니다." in plain and "##" not in plain
    assert "<h2>고객님께 드리는 보상</h2>" in html
    # Without the default policy too, as most tools parse it.
    legacy = email.message_from_bytes(response.data)
    assert legacy["From"] and legacy["To"] and legacy["Subject"]
    assert [p.get_content_type() for p in legacy.walk()][1:] == ["text/plain", "text/html"]


def test_eml_from_the_first_signatory_and_no_to_without_an_email(make_user, make_incident, client, login):
    incident = documented_incident(make_user, make_incident, "en", contact="+82 10-1234-5678")
    letter = draft(incident.owner, incident, "customer", "en")
    manager = make_user("manager", name="Hanna Jung", title="CEO", email="hanna@example.com")
    services.edit(incident.owner, letter, letter.current.body + "\nHanna Jung\nCEO\n",
                  [manager.email, incident.owner.email])
    db.session.commit()
    login("viewer")
    response = client.get(f"/apologies/{letter.id}/export.eml")
    message = email.message_from_bytes(response.data, policy=policy.default)
    assert message["Subject"] == "Our apology: Checkout charged customers twice"
    assert message["From"].addresses[0].addr_spec == "hanna@example.com"
    assert message["To"] is None
    assert "-v2.eml" in response.headers["Content-Disposition"]


def test_no_eml_for_a_public_notice(client, login, incident):
    notice = draft(incident.owner, incident, "public", "ko")
    login("viewer")
    assert client.get(f"/apologies/{notice.id}/export.eml").status_code == 404
    assert client.get(f"/apologies/{notice.id}/export.md").status_code == 200
    assert client.get("/apologies/999999/export.md").status_code == 404
    assert client.get(f"/apologies/{notice.id}/export.pdf").status_code == 404
