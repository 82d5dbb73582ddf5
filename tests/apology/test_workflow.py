"""Apology workflow through the services: versions, approval by the right role, overrides,
signatories, sending."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.errors import Conflict, Forbidden, StaleEdit, ValidationFailed
from app.extensions import db
from app.timeutil import as_utc
from incidents import services as incident_services
from incidents.apology import drafting, services
from incidents.apology.models import Audience, LetterStatus
from incidents.models import EventKind, TimelineEvent
from tests.apology.test_drafts import documented_incident, draft

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def events(incident, kind: EventKind) -> list[TimelineEvent]:
    return list(db.session.scalars(select(TimelineEvent).where(
        TimelineEvent.incident_id == incident.id, TimelineEvent.kind == kind).order_by(TimelineEvent.id)))


@pytest.fixture
def incident(make_user, make_incident):
    return documented_incident(make_user, make_incident, "en")


@pytest.fixture
def letter(incident):
    return draft(incident.owner, incident, "customer", "en")


@pytest.fixture
def public(incident):
    return draft(incident.owner, incident, "public", "en")


def commit(result):
    db.session.commit()
    return result


def test_a_draft_records_its_first_version_and_an_event(letter, incident):
    assert letter.status == LetterStatus.draft
    assert [v.number for v in letter.versions] == [1]
    assert letter.current.signatories == [services.signatory_dict(incident.owner)]
    assert [e.data for e in events(incident, EventKind.apology_drafted)] == [
        {"letter_id": letter.id, "audience": "customer", "language": "en"}]


def test_drafting_validates_its_inputs(make_user, incident):
    agent = make_user("agent")
    with pytest.raises(Forbidden):
        services.draft(make_user("viewer"), incident, audience=Audience.public, language="en")
    with pytest.raises(ValidationFailed) as err:
        services.draft(agent, incident, audience=Audience.customer, language="en")
    assert "customer_id" in err.value.fields
    with pytest.raises(ValidationFailed) as err:
        services.draft(agent, incident, audience=Audience.public, language="en",
                       customer_id=incident.customers[0].id)
    assert "customer_id" in err.value.fields
    with pytest.raises(ValidationFailed) as err:
        services.draft(agent, incident, audience=Audience.public, language="fr")
    assert "language" in err.value.fields


def test_each_edit_is_a_new_version_and_unchanged_text_saves_nothing(make_user, letter, incident):
    agent = make_user("agent")
    original = letter.current.body
    commit(services.edit(agent, letter, original + "\nP.S. Thank you for your patience.\n"))
    assert [v.number for v in letter.versions] == [1, 2]
    assert letter.versions[0].body == original  # every version is kept
    assert letter.current.created_by == agent
    commit(services.edit(agent, letter, letter.current.body))
    commit(services.edit(agent, letter, letter.current.body, [incident.owner.email]))
    assert [v.number for v in letter.versions] == [1, 2]
    assert [e.data["version"] for e in events(incident, EventKind.apology_edited)] == [2]


def test_a_stale_version_is_refused(make_user, letter):
    agent = make_user("agent")
    commit(services.edit(agent, letter, letter.current.body + "\nv2\n", expected_version=1))
    with pytest.raises(StaleEdit) as err:
        services.edit(agent, letter, letter.current.body + "\nv3 from an old page\n", expected_version=1)
    assert err.value.status == 409
    db.session.rollback()
    assert len(letter.versions) == 2


@pytest.mark.parametrize("body", ["", "   \n ", "x" * (services.BODY_MAX + 1), "bad \x00 byte"])
def test_an_unsavable_body_is_refused(make_user, letter, body):
    with pytest.raises(ValidationFailed) as err:
        services.edit(make_user("agent"), letter, body)
    assert "body" in err.value.fields


def test_approval_of_a_customer_letter_needs_a_lead(make_user, letter, incident):
    with pytest.raises(Forbidden):
        services.approve(make_user("agent"), letter)
    lead = make_user("lead")
    commit(services.approve(lead, letter, now=T0))
    assert letter.status == LetterStatus.approved
    assert (letter.approved_by, as_utc(letter.approved_at), letter.approved_version) == (lead, T0, 1)
    assert letter.override_reason == ""
    [event] = events(incident, EventKind.apology_approved)
    assert event.data == {"letter_id": letter.id, "version": 1, "overridden": []}
    with pytest.raises(Conflict):
        services.approve(lead, letter)


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_approval_of_a_public_notice_needs_a_manager(make_user, public, role):
    with pytest.raises(Forbidden):
        services.approve(make_user("lead"), public)
    with pytest.raises(Forbidden):
        services.approve(make_user("agent"), public)
    commit(services.approve(make_user(role), public))
    assert public.status == LetterStatus.approved


CONDITIONAL = ("That should never have happened to you, and I am truly sorry.",
               "We apologize if this caused you any inconvenience.")


def test_warnings_are_approved_only_by_a_lead_with_a_reason(make_user, letter, incident):
    lead = make_user("lead")
    commit(services.edit(lead, letter, letter.current.body.replace(*CONDITIONAL)))
    assert [(f["code"], f["severity"]) for f in letter.current.findings] == [
        ("conditional_apology", "warning")]
    assert services.warning_codes(letter.current) == ["conditional_apology"]
    assert services.error_codes(letter.current) == []
    with pytest.raises(Forbidden):
        services.approve(make_user("agent"), letter, override_reason="Looks fine to me.")
    with pytest.raises(Conflict) as err:
        services.approve(lead, letter)
    assert err.value.extra["findings"] == ["conditional_apology"]
    with pytest.raises(Conflict):
        services.approve(lead, letter, override_reason="   ")
    db.session.rollback()
    assert letter.status == LetterStatus.draft and events(incident, EventKind.apology_approved) == []
    commit(services.approve(lead, letter, override_reason="Legal asked for this exact wording."))
    assert letter.status == LetterStatus.approved
    assert letter.override_reason == "Legal asked for this exact wording."
    [event] = events(incident, EventKind.apology_approved)
    assert event.body == "Legal asked for this exact wording."
    assert event.data["overridden"] == ["conditional_apology"]
    assert event.data["version"] == 2


@pytest.mark.parametrize("role", ["lead", "manager", "admin"])
def test_errors_block_approval_whatever_the_reason_and_role(make_user, letter, incident, role):
    commit(services.edit(incident.owner, letter,
                         letter.current.body.replace("Dear Jiwoo Lee,", "Dear [customer's name],")))
    assert services.error_codes(letter.current) == ["placeholder_left"]
    for reason in ("", "We will fill it in by hand."):
        with pytest.raises(Conflict) as err:
            services.approve(make_user(role), letter, override_reason=reason)
        assert err.value.extra["findings"] == ["placeholder_left"]
        assert "Placeholder left" in err.value.message
    db.session.rollback()
    assert letter.status == LetterStatus.draft and letter.override_reason == ""
    assert events(incident, EventKind.apology_approved) == []
    with pytest.raises(Conflict):
        services.mark_sent(incident.owner, letter, "email")


def test_a_letter_approved_with_an_error_is_not_sent(make_user, letter, incident):
    """Letters approved before errors blocked: their version still carries the error."""
    commit(services.approve(make_user("lead"), letter))
    letter.current.findings = [{"code": "contradiction", "severity": "error", "message": "",
                                "span": None}]
    db.session.commit()
    with pytest.raises(Conflict) as err:
        services.mark_sent(incident.owner, letter, "email")
    assert err.value.extra["findings"] == ["contradiction"]
    db.session.rollback()
    assert letter.status == LetterStatus.approved and events(incident, EventKind.apology_sent) == []


def test_a_reason_given_without_errors_is_not_recorded_as_an_override(make_user, letter, incident):
    commit(services.approve(make_user("lead"), letter, override_reason="no need"))
    assert letter.override_reason == ""
    assert events(incident, EventKind.apology_approved)[0].data["overridden"] == []


def test_editing_an_approved_letter_returns_it_to_draft(make_user, letter, incident):
    lead = make_user("lead")
    commit(services.approve(lead, letter))
    commit(services.edit(lead, letter, letter.current.body + "\nP.S. See you soon.\n"))
    assert letter.status == LetterStatus.draft
    assert (letter.approved_by, letter.approved_at, letter.approved_version) == (None, None, None)
    assert events(incident, EventKind.apology_edited)[-1].data["reopened"] is True
    with pytest.raises(Conflict):
        services.mark_sent(lead, letter, "email")


def test_sent_records_who_when_and_channel_and_freezes_the_letter(make_user, letter, incident):
    agent = make_user("agent")
    with pytest.raises(Conflict):
        services.mark_sent(agent, letter, "email")  # not approved yet
    commit(services.approve(make_user("lead"), letter))
    with pytest.raises(ValidationFailed) as err:
        services.mark_sent(agent, letter, "pigeon")
    assert "channel" in err.value.fields
    with pytest.raises(Forbidden):
        services.mark_sent(make_user("viewer"), letter, "email")
    commit(services.mark_sent(agent, letter, "email", now=T0))
    assert (letter.status, letter.sent_by, as_utc(letter.sent_at), letter.sent_channel) == (
        LetterStatus.sent, agent, T0, "email")
    assert events(incident, EventKind.apology_sent)[0].data == {
        "letter_id": letter.id, "channel": "email", "version": 1}
    with pytest.raises(Conflict) as err:
        services.edit(agent, letter, "A new text.")
    assert err.value.status == 409
    with pytest.raises(Conflict):
        services.mark_sent(agent, letter, "phone")
    with pytest.raises(Conflict):
        services.approve(make_user("lead"), letter)


def test_no_approval_without_a_named_signatory(make_user, letter):
    lead = make_user("lead")
    commit(services.edit(lead, letter, letter.current.body, signatory_emails=[]))
    assert letter.current.signatories == []
    # The text still reads as signed, so the check is quiet; the approval rule is not.
    assert services.approval_problems(letter)
    # Not even with an override reason: the signatory rule is not a finding to wave through.
    with pytest.raises(Conflict) as err:
        services.approve(lead, letter, override_reason="We sign as a team.")
    assert err.value.extra["problems"]
    db.session.rollback()
    assert letter.status == LetterStatus.draft


def test_a_red_public_notice_needs_a_manager_or_admin_signatory(make_user, make_incident):
    owner = make_user("lead", name="김민지", title="고객경험팀장", email="minji@example.com")
    incident = documented_incident(make_user, make_incident, "ko", grade="Red", owner=owner)
    notice = draft(owner, incident, "public", "ko")
    manager = make_user("manager", name="정한결", title="대표이사", email="ceo@example.com")
    assert services.approval_problems(notice)
    with pytest.raises(Conflict):
        services.approve(manager, notice, override_reason="urgent")
    db.session.rollback()
    body = notice.current.body.rstrip("\n") + "\n대표이사 정한결\n"
    commit(services.edit(owner, notice, body, [owner.email, manager.email]))
    assert services.approval_problems(notice) == []
    assert notice.current.findings == []
    commit(services.approve(manager, notice))
    assert notice.status == LetterStatus.approved
    # A customer letter on the same Red incident needs no manager signatory.
    letter = draft(owner, incident, "customer", "ko")
    assert services.approval_problems(letter) == []


def test_signatories_are_name_and_title_of_active_staff_never_viewers(make_user, letter):
    agent = make_user("agent")
    viewer = make_user("viewer", name="Vera Viewer", title="Auditor")
    for emails in ([viewer.email], ["nobody@example.com"]):
        with pytest.raises(ValidationFailed) as err:
            services.edit(agent, letter, letter.current.body, emails)
        assert "signatory_emails" in err.value.fields
    gone = make_user("manager", name="Gone Person", title="Former Director")
    gone.active = False
    db.session.commit()
    with pytest.raises(ValidationFailed):
        services.edit(agent, letter, letter.current.body, [gone.email])
    db.session.rollback()
    manager = make_user("manager", name="Hanna Jung", title="Chief Executive Officer")
    commit(services.edit(agent, letter, letter.current.body, [" " + manager.email.upper() + " ",
                                                              manager.email]))
    assert letter.current.signatories == [{"user_id": manager.id, "name": "Hanna Jung",
                                           "title": "Chief Executive Officer",
                                           "email": manager.email}]
    # The draft's own signature is replaced by the chosen signatory's.
    assert letter.current.body.endswith("With my sincere apologies,\n\nHanna Jung\n"
                                        "Chief Executive Officer\n")
    assert services.approval_problems(letter) == []
    # A signatory's later change of title does not rewrite how the letter was signed.
    manager.title = "Retired"
    db.session.commit()
    assert letter.current.signatories[0]["title"] == "Chief Executive Officer"


def test_a_change_source_adds_what_will_change(make_user, make_incident, monkeypatch):
    monkeypatch.setattr(services, "change_sources", [
        lambda incident, language: ["Every configuration change is now reviewed by two engineers."]])
    incident = documented_incident(make_user, make_incident, "en")
    body = draft(incident.owner, incident, "customer", "en").current.body
    assert "- Every configuration change is now reviewed by two engineers." in body


def test_letters_are_listed_per_incident(incident, letter, public, make_user, make_incident):
    other = make_incident(make_user("agent"), customers=[incident_services.CustomerData(name="X")])
    draft(other.owner, other, "public", "en")
    assert services.for_incident(incident) == [letter, public]


def test_letter_rows_are_the_letters_as_the_incident_page_shows_them(incident, letter, public):
    services.edit(incident.owner, letter, letter.current.body + "\nOne more line.")
    db.session.commit()
    db.session.expire_all()
    shown = [(lt.id, lt.audience, lt.language, lt.status, lt.customer_id,
              lt.customer.name if lt.customer else None, lt.customer.reference if lt.customer else None,
              len(lt.versions)) for lt in services.for_incident(incident)]
    assert [tuple(row) for row in services.letter_rows(incident.id)] == shown
    assert [row[-1] for row in shown] == [2, 1] and shown[0][4] is not None and shown[1][4] is None


@pytest.mark.parametrize("language", ["en", "ko"])
def test_re_signing_moves_write_to_me_to_whoever_signs_first(make_user, make_incident, language):
    """A draft's "write to me directly" is said by its first signatory; signed by someone
    else, the letter names the contact instead, and signed by the contact again it says "me"."""
    incident = documented_incident(make_user, make_incident, language)
    letter = draft(incident.owner, incident, "customer", language)
    owner = drafting.Signatory(incident.owner.name, incident.owner.title, incident.owner.email)
    me = drafting.contact_paragraph(owner, language, signs=True)
    named = drafting.contact_paragraph(owner, language, signs=False)
    assert me in letter.current.body and named not in letter.current.body
    manager = make_user("manager", name="Hanna Jung" if language == "en" else "정한나",
                        title="Chief Executive Officer" if language == "en" else "대표이사")

    commit(services.edit(incident.owner, letter, letter.current.body, [manager.email]))
    body = letter.current.body
    assert named in body and me not in body
    assert body.rstrip().endswith(drafting.signature_block(
        [drafting.Signatory(manager.name, manager.title, manager.email)], language, "customer"))
    assert "missing_contact" not in [f["code"] for f in letter.current.findings]

    commit(services.edit(incident.owner, letter, body, [incident.owner.email]))
    assert me in letter.current.body and named not in letter.current.body


def test_a_contact_paragraph_written_by_hand_is_kept_on_re_signing(make_user, letter):
    manager = make_user("manager", name="Hanna Jung", title="Chief Executive Officer")
    owner = letter.incident.owner
    me = drafting.contact_paragraph(
        drafting.Signatory(owner.name, owner.title, owner.email), "en", signs=True)
    own = "Call our care team on 02-555-0123 any day until 10 pm."
    commit(services.edit(owner, letter, letter.current.body.replace(me, own)))
    commit(services.edit(owner, letter, letter.current.body, [manager.email]))
    assert own in letter.current.body
    assert letter.current.body.rstrip().endswith("Hanna Jung\nChief Executive Officer")


def test_a_hand_written_signature_is_not_rewritten_and_must_name_the_signatory(make_user, letter):
    manager = make_user("manager", name="Hanna Jung", title="Chief Executive Officer")
    body = letter.current.body.rstrip("\n") + "\n\nP.S. Call me any time.\n"
    commit(services.edit(letter.incident.owner, letter, body, [manager.email]))
    assert letter.current.body == body
    [problem] = services.approval_problems(letter)
    assert "Hanna Jung" in problem
    with pytest.raises(Conflict) as err:
        services.approve(manager, letter, override_reason="She approved it by phone.")
    assert err.value.extra["problems"] == [problem]
    db.session.rollback()
    assert letter.status == LetterStatus.draft


@pytest.mark.parametrize(("body", "block"), [
    ("Dear Sam,\n\nWe are sorry.\n\nWith my apologies,\n\nDana Cho\nHead of CX\n",
     "Dear Sam,\nWe are sorry.\nWith my apologies,\nDana Cho\nHead of CX"),
    ("고객님께\n\n사과드립니다.\n\n다시 한번 사과드립니다.\n\n고객경험팀장 김민지 드림\n대표이사 정한결 (ceo@example.com)\n",
     "고객님께\n사과드립니다.\n다시 한번 사과드립니다.\n고객경험팀장 김민지 드림\n대표이사 정한결 (ceo@example.com)"),
    ("A\n\nB.\n\nC.\n\nD.\n\nDana Cho mentioned this.\n", "A\nB.\nC."),
])
def test_the_signature_block_is_the_lines_after_the_last_prose_and_the_opening(body, block):
    assert services.signature_block(body) == block
