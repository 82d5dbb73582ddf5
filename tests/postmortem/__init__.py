"""Helpers shared by the postmortem, action item and playbook tests."""

from __future__ import annotations

import html

from app import search
from app.extensions import db
from incidents import services as incident_services
from incidents.models import Status
from incidents.postmortem import services as pm_services

LETTER_EN = ("Dear future team: switch the payment gateway to the backup provider first, "
             "then tell customers within ten minutes.")


def in_request(app):
    """A request context around a test: the postmortem template renders the timeline with
    Jinja templates that need one (current_user, url_for), as in the app itself."""
    with app.test_request_context():
        yield


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def with_section(body: str, heading: str, content: str) -> str:
    """`body` with `content` written under its `## heading`."""
    marker = f"## {heading}\n"
    assert marker in body, heading
    return body.replace(marker, f"{marker}\n{content}\n", 1)


# What an author writes in place of each prompt of the template (but the letter to the future
# team, which the tests choose).
ANSWERS = {
    "en": {"Summary": "Card payments failed at checkout for forty minutes.",
           "Root cause": "Certificate renewal was a manual step that nobody was reminded of."},
    "ko": {"요약": "결제 페이지에서 40분 동안 카드 결제가 되지 않았습니다.",
           "근본 원인": "인증서 갱신이 알림 없는 수작업 절차였습니다."},
}


def filled(body: str, language: str, letter: str = LETTER_EN) -> str:
    """`body`, a postmortem from the template, with every prompt answered."""
    answers = {**ANSWERS[language], pm_services.SECTIONS[language][-1]: letter}
    for section, hint in pm_services.HINTS[language].items():
        body = body.replace(f"_{hint}_", answers[section])
    return body


def start_filled(actor, incident, language: str = "en", letter: str = LETTER_EN):
    """Start a postmortem and answer every prompt of its template, as an author would before
    publishing."""
    pm = pm_services.start(actor, incident, language)
    pm_services.save(actor, pm, filled(pm.body, language, letter))
    return pm


def publish_postmortem(lead, incident, language: str = "en", letter: str = LETTER_EN):
    """Start, answer every prompt (the letter to the future team: `letter`), publish;
    committed."""
    pm = start_filled(lead, incident, language, letter)
    pm_services.publish(lead, pm)
    db.session.commit()
    return pm


def close(lead, incident) -> None:
    incident_services.change_status(lead, incident, Status.closed)
    db.session.commit()


def reindex() -> None:
    """The index is fed after commit (after a request, in the app); services need a nudge.
    Nudged here, too, so no request of the test finds rows pending: the test client's
    requests share the test's app context and session, and a GET that applies pending rows
    in a session of its own leaves this one on an old SQLite snapshot that cannot write."""
    search.apply_pending()


CUSTOMER = {"name": "Kim Minsu", "contact": "minsu.kim@example.com", "reference": "ORD-2024-7788"}
LETTER_WITH_PII = (
    "Dear future team: switch the payment gateway to the backup provider first.\n"
    "Last time Kim Minsu (order ORD-2024-7788) called twice; call back from 010-9876-5432 "
    "and copy minsu.kim@example.com on the follow-up.")


# What customers are told, so that the apology letter drafts without a gap.
TOLD = {
    "en": dict(public_summary="When you tried to pay by card at checkout, the payment failed.",
               public_harm="You could not complete your order for about forty minutes.",
               public_cause="A security certificate of our payment gateway had expired.",
               public_fix="We switched to our backup payment provider and payments work again.",
               public_change="Certificates are now renewed automatically."),
    "ko": dict(public_summary="결제 페이지에서 카드로 결제하실 때 결제가 되지 않았습니다.",
               public_harm="약 40분 동안 주문을 마치실 수 없었습니다.",
               public_cause="결제 대행사와 통신하는 보안 인증서의 기한이 지나 있었습니다.",
               public_fix="예비 결제 대행사로 바꿔 지금은 정상적으로 결제하실 수 있습니다.",
               public_change="인증서는 이제 자동으로 갱신됩니다."),
}


def ready_incident(agent, lead, *, title="Card payment fails at checkout",
                   description="Customers see error 500 when paying by card at checkout",
                   category="payment", customer=CUSTOMER, letter=LETTER_WITH_PII,
                   actions=("Switched the payment gateway to the backup provider",
                            "Posted a notice on the status page"),
                   language="en"):
    """A closed Orange incident with a published postmortem: everything a playbook draws on
    (customer, actions taken, approved compensation and apology, action items)."""
    from sqlalchemy import select

    from app.models import Category, Grade
    from incidents.apology import services as apology_services
    from incidents.apology.models import Audience
    from incidents.compensation import services as comp_services
    from incidents.compensation.models import CompType
    from incidents.models import Channel, EventKind
    from incidents.postmortem.models import ActionKind

    incident = incident_services.create_incident(
        agent, title=title, description=description,
        grade=db.session.scalar(select(Grade).where(Grade.name == "Orange")),
        category=db.session.scalar(select(Category).where(Category.slug == category)),
        channel=Channel.chat, impact="Orders could not be paid for 40 minutes", owner=lead,
        customers=[incident_services.CustomerData(**customer, impact="Charged twice")],
        **TOLD[language])
    for action in actions:
        incident_services.add_event(agent, incident, EventKind.action, action)
    coupon = comp_services.propose(lead, incident, comp_type=CompType.coupon, amount=20_000,
                                   customer_id=incident.customers[0].id)
    comp_services.pay(lead, coupon)
    letter_ = apology_services.draft(agent, incident, audience=Audience.customer, language=language,
                                     customer_id=incident.customers[0].id)
    apology_services.approve(lead, letter_, override_reason="checked by hand")
    done = pm_services.add_action(agent, incident, title="Renew gateway certificates automatically",
                                  owner=lead, kind=ActionKind.prevent)
    pm_services.complete_action(lead, done)
    pm_services.add_action(agent, incident, title="Alert on card payment error rate", owner=agent,
                           kind=ActionKind.detect)
    db.session.commit()
    publish_postmortem(lead, incident, language, letter)
    close(lead, incident)
    reindex()
    return incident
