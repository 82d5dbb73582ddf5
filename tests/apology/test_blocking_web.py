"""On the web: drafts written from what customers are told pass the check and are approved;
a letter with an error cannot be approved, exported or marked sent (a clear message, nothing
changed); warnings are approved by a lead with a reason, which the page then shows."""

from __future__ import annotations

from html import unescape

import pytest
import sqlalchemy as sa

from app.extensions import db
from incidents.apology import services
from incidents.apology.models import ApologyLetter, LetterStatus
from tests.apology.test_drafts import documented_incident, draft, pending_cause
from tests.conftest import SNAPSHOT_TABLES

TABLES = (*SNAPSHOT_TABLES, "apology_letters", "apology_versions")


def rows() -> dict[str, list[tuple]]:
    with db.engine.connect() as conn:
        return {t: [tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {t} ORDER BY 1"))]
                for t in TABLES}


def html(response) -> str:
    return unescape(response.get_data(as_text=True))


def drafted_on_the_web(client, incident, audience: str, language: str) -> ApologyLetter:
    data = {"audience": audience, "language": language}
    if audience == "customer":
        data["customer"] = str(incident.customers[0].id)
    response = client.post(f"/incidents/{incident.id}/apologies", data=data)
    assert response.status_code == 302, html(response)[:500]
    return db.session.get(ApologyLetter, int(response.location.rsplit("/", 1)[1]))


@pytest.mark.parametrize("pending", [False, True], ids=["cause-told", "cause-pending"])
@pytest.mark.parametrize("audience", ["customer", "public"])
@pytest.mark.parametrize("language", ["ko", "en"])
def test_a_draft_made_on_the_web_passes_the_check_and_is_approved(client, login, make_user,
                                                                  make_incident, language,
                                                                  audience, pending):
    incident = documented_incident(make_user, make_incident, language,
                                   **(pending_cause() if pending else {}))
    login("manager")
    letter = drafted_on_the_web(client, incident, audience, language)
    assert letter.current.findings == [], letter.current.body
    page = html(client.get(f"/apologies/{letter.id}"))
    assert "approval-blocked" not in page and "exports-blocked" not in page
    assert 'name="override_reason"' not in page
    assert client.post(f"/apologies/{letter.id}/approve", data={}).status_code == 302
    db.session.refresh(letter)
    assert letter.status == LetterStatus.approved and letter.override_reason == ""
    export = client.get(f"/apologies/{letter.id}/export.txt")
    assert export.status_code == 200 and "attachment" in export.headers["Content-Disposition"]


@pytest.fixture
def gap(client, login, make_user, make_incident):
    """A letter approved, then given an unfilled gap: back to draft, with an error."""
    incident = documented_incident(make_user, make_incident, "en")
    letter = draft(incident.owner, incident, "customer", "en")
    services.approve(make_user("lead"), letter)
    services.edit(incident.owner, letter,
                  letter.current.body.replace("Dear Jiwoo Lee,", "Dear [customer's name],"))
    db.session.commit()
    assert letter.status == LetterStatus.draft
    assert services.error_codes(letter.current) == ["placeholder_left"]
    return letter


def test_an_error_blocks_approval_on_the_web_and_changes_nothing(client, login, gap):
    login("admin")
    page = html(client.get(f"/apologies/{gap.id}"))
    assert "Errors cannot be overridden" in page and 'name="override_reason"' not in page
    assert f"/apologies/{gap.id}/export" not in page
    before = rows()
    refused = client.post(f"/apologies/{gap.id}/approve",
                          data={"override_reason": "We will fill it in by hand."})
    assert refused.status_code == 409
    assert "cannot be approved while the check finds errors: Placeholder left" in html(refused)
    assert rows() == before


@pytest.mark.parametrize("fmt", ["md", "txt", "html", "eml"])
def test_an_error_blocks_every_export(client, login, gap, fmt):
    login("agent")
    before = rows()
    refused = client.get(f"/apologies/{gap.id}/export.{fmt}")
    assert refused.status_code == 409
    assert "Content-Disposition" not in refused.headers
    assert "cannot be exported while the check finds errors: Placeholder left" in html(refused)
    assert "[customer's name]" not in refused.headers.get("Content-Type", "")
    assert rows() == before


def test_a_letter_approved_with_an_error_is_not_marked_sent(client, login, make_user,
                                                            make_incident):
    incident = documented_incident(make_user, make_incident, "en")
    letter = draft(incident.owner, incident, "customer", "en")
    services.approve(make_user("lead"), letter)
    # As approved before errors blocked: its version carries an error.
    letter.current.findings = [{"code": "no_named_signatory", "severity": "error", "message": "",
                                "span": None}]
    db.session.commit()
    login("agent")
    page = html(client.get(f"/apologies/{letter.id}"))
    assert "have it approved again before it is sent" in page
    before = rows()
    refused = client.post(f"/apologies/{letter.id}/sent", data={"channel": "email"})
    assert refused.status_code == 409
    assert "cannot be sent while the check finds errors: No named signatory" in html(refused)
    assert rows() == before


def test_a_warning_is_approved_by_a_lead_with_a_reason_shown_on_the_page(client, login, make_user,
                                                                         make_incident):
    incident = documented_incident(make_user, make_incident, "en")
    letter = draft(incident.owner, incident, "customer", "en")
    services.edit(incident.owner, letter, letter.current.body.replace(
        "That should never have happened to you, and I am truly sorry.",
        "We apologize if this caused you any inconvenience."))
    db.session.commit()
    assert services.warning_codes(letter.current) == ["conditional_apology"]
    login("agent")
    before = rows()
    assert client.post(f"/apologies/{letter.id}/approve",
                       data={"override_reason": "Fine by me."}).status_code == 403
    assert rows() == before
    login("lead")
    before = rows()
    refused = client.post(f"/apologies/{letter.id}/approve", data={"override_reason": ""})
    assert refused.status_code == 409 and "give a reason to approve anyway" in html(refused)
    assert rows() == before
    done = client.post(f"/apologies/{letter.id}/approve",
                       data={"override_reason": "Legal asked for this exact wording."})
    assert done.status_code == 302
    db.session.refresh(letter)
    assert letter.status == LetterStatus.approved
    assert letter.override_reason == "Legal asked for this exact wording."
    assert "Legal asked for this exact wording." in html(client.get(f"/apologies/{letter.id}"))
    assert "Legal asked for this exact wording." in html(client.get(f"/incidents/{incident.id}"))
