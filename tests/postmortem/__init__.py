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


def publish_postmortem(lead, incident, language: str = "en", letter: str = LETTER_EN):
    """Start, fill the letter to the future team, publish; committed."""
    pm = pm_services.start(lead, incident, language)
    heading = pm_services.SECTIONS[language][-1]
    pm_services.save(lead, pm, with_section(pm.body, heading, letter))
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
        customers=[incident_services.CustomerData(**customer, impact="Charged twice")])
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
