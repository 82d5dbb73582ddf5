"""Factories for the search tests: published playbooks and postmortems, already indexed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app import search
from app.extensions import db
from app.models import Category, Grade
from incidents import services as incident_services
from incidents.models import Status
from incidents.postmortem import services as pm_services
from incidents.services import CustomerData
from playbooks import services as playbook_services


def indexed_keys() -> list[str]:
    """Every document key in the live index (duplicates kept, so they can be counted)."""
    searcher = search.searcher()
    return [fields["key"] for fields in searcher.all_stored_fields()]


@pytest.fixture
def publish(app):
    """Publish a playbook through the service, commit and apply the outbox."""
    def make(title: str, *, grade: str | None = None, category: str | None = None,
             language: str = "en", actor=None, now=None, **texts):
        data = playbook_services.PlaybookData(
            title=title, language=language, tags=texts.pop("tags", []),
            grade=db.session.scalar(select(Grade).where(Grade.name == grade)) if grade else None,
            category=db.session.scalar(select(Category).where(Category.slug == category))
            if category else None, **texts)
        playbook, _removed = playbook_services.publish_new(actor, data, now=now)
        db.session.commit()
        search.apply_pending()
        return playbook
    return make


@pytest.fixture
def publish_postmortem(app, make_user, make_incident):
    """An incident (with affected customers) whose postmortem `body` is published and indexed;
    `close=True` also closes the incident so a playbook can be made from it."""
    def make(body: str, *, title: str = "결제 오류로 주문 실패", description: str = "",
             customers=(), language: str = "ko", close: bool = False, lead=None):
        lead = lead or make_user("lead")
        incident = make_incident(actor=lead, title=title, description=description,
                                 customers=[CustomerData(**c) for c in customers])
        # The template renders the timeline with Jinja, which needs a request (current_user).
        with app.test_request_context():
            pm = pm_services.start(lead, incident, language)
            pm_services.save(lead, pm, body)
            pm_services.publish(lead, pm)
            if close:
                incident_services.change_status(lead, incident, Status.closed)
            db.session.commit()
        search.apply_pending()
        return pm
    return make
