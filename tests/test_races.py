"""Two decisions on one record at the same instant: one wins, the other is told what happened
(409), never a 500, and the record is decided once. On PostgreSQL both requests are held until
each has read the record, so every round is a real race; on SQLite the write lock orders them
(issue 16, class 3)."""

from __future__ import annotations

import contextlib
import re
import threading
from contextlib import contextmanager

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import User
from incidents import services as incident_services
from incidents.apology import services as apology_services
from incidents.apology.models import Audience
from incidents.compensation import services as comp_services
from incidents.compensation.models import Compensation, CompStatus, CompType
from incidents.models import EventKind, Incident, Status, TimelineEvent
from tests.conftest import PASSWORD
from tests.postmortem import TOLD

ROUNDS_ON_POSTGRES = 50


def _postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def _rounds() -> int:
    return ROUNDS_ON_POSTGRES if _postgres() else 10


@contextmanager
def _both_read_before_either_writes():
    """On PostgreSQL, hold each request at its first flush until the other has reached its
    own: both have read the record as it was, so the second write is the stale one."""
    if not _postgres():
        yield
        return
    barrier = threading.Barrier(2)
    held = set()

    def wait(session, _context, _instances):
        thread = threading.current_thread().name
        if thread.startswith("race-") and thread not in held:
            held.add(thread)  # only the first flush: by the next, the other may hold a lock
            # A broken barrier: the other request failed before writing; nothing to race.
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=2)

    event.listen(Session, "before_flush", wait)
    try:
        yield
    finally:
        event.remove(Session, "before_flush", wait)


def race(*calls) -> list[int]:
    """Run the calls at once, each in its own thread (and so its own app context and
    database session); returns their status codes."""
    results: list = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(i, call):
        start.wait()
        response = call()
        results[i] = (response.status_code, response.get_json(silent=True),
                      response.get_data(as_text=True))

    threads = [threading.Thread(target=run, args=(i, c), name=f"race-{i}")
               for i, c in enumerate(calls)]
    with _both_read_before_either_writes():
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    db.session.rollback()
    db.session.expire_all()
    return results


def one_won(results, *, api: bool = True) -> None:
    codes = sorted(r[0] for r in results)
    assert codes[0] in (200, 302, 303) and codes[1] == 409, [(r[0], r[1] or r[2][:300])
                                                             for r in results]
    loser = next(r for r in results if r[0] == 409)
    if api:
        error = loser[1]["error"]
        assert error["code"] in ("stale_edit", "conflict", "transition_refused")
        assert error["message"]
    else:
        assert "same moment" in loser[2] or "cannot be changed" in loser[2] or \
            "already" in loser[2]


def _events(incident_id: int, kind: EventKind) -> int:
    return db.session.scalar(select(func.count()).select_from(TimelineEvent).where(
        TimelineEvent.incident_id == incident_id, TimelineEvent.kind == kind))


def _proposal(team, incident, amount=200_000, approve=False) -> Compensation:
    comp = comp_services.propose(team["agent"].user, incident, comp_type=CompType.refund,
                                 amount=amount, approve=False)
    if approve:
        comp_services.approve(team["lead"].user, comp)
    db.session.commit()
    return comp


def test_two_approvals_over_the_api(team, make_incident):
    incident = make_incident(team["agent"].user, grade="Blue")
    for _ in range(_rounds()):
        comp = _proposal(team, incident)
        results = race(
            lambda c=comp.id: team["lead"].post(f"/api/v1/compensations/{c}/approve"),
            lambda c=comp.id: team["manager"].post(f"/api/v1/compensations/{c}/approve", json={}))
        one_won(results)
        assert db.session.get(Compensation, comp.id).status == CompStatus.approved
    assert _events(incident.id, EventKind.compensation_approved) == _rounds()


def test_approve_against_reject_over_the_api(team, make_incident):
    incident = make_incident(team["agent"].user, grade="Blue")
    for _ in range(_rounds()):
        comp = _proposal(team, incident)
        results = race(
            lambda c=comp.id: team["lead"].post(f"/api/v1/compensations/{c}/approve"),
            lambda c=comp.id: team["manager"].post(f"/api/v1/compensations/{c}/reject",
                                                json={"reason": "Not covered"}))
        one_won(results)
        comp = db.session.get(Compensation, comp.id)
        assert comp.status in (CompStatus.approved, CompStatus.rejected)
    decided = (_events(incident.id, EventKind.compensation_approved)
               + _events(incident.id, EventKind.compensation_rejected))
    assert decided == _rounds()


def test_two_payments_over_the_api(team, make_incident):
    incident = make_incident(team["agent"].user, grade="Blue")
    for _ in range(max(10, _rounds() // 2)):
        comp = _proposal(team, incident, approve=True)
        results = race(
            lambda c=comp.id: team["agent"].post(f"/api/v1/compensations/{c}/pay"),
            lambda c=comp.id: team["lead"].post(f"/api/v1/compensations/{c}/pay", json={}))
        one_won(results)
    assert _events(incident.id, EventKind.compensation_paid) == max(10, _rounds() // 2)


def test_two_status_moves_over_the_api(team, make_incident):
    rounds = max(10, _rounds() // 2)
    for _ in range(rounds):
        incident = make_incident(team["agent"].user, grade="Blue")
        results = race(
            # Both decided on what they saw: a detected incident (without expected_status
            # the second move would rightly go on from where the first left it).
            lambda i=incident.id: team["agent"].post(f"/api/v1/incidents/{i}/status", json={
                "status": "shared", "expected_status": "detected"}),
            lambda i=incident.id: team["lead"].post(f"/api/v1/incidents/{i}/status", json={
                "status": "mitigated", "expected_status": "detected"}))
        one_won(results)
        assert _events(incident.id, EventKind.status_changed) == 1


def test_two_patches_with_the_same_version(team, make_incident):
    rounds = max(10, _rounds() // 2)
    for n in range(rounds):
        incident = make_incident(team["agent"].user, grade="Blue")
        version = incident.version
        results = race(
            lambda i=incident.id, b={"title": f"First {n}", "version": version}:
                team["agent"].patch(f"/api/v1/incidents/{i}", json=b),
            lambda i=incident.id, b={"title": f"Second {n}", "version": version}:
                team["lead"].patch(f"/api/v1/incidents/{i}", json=b))
        one_won(results)
        assert _events(incident.id, EventKind.edited) == 1


def test_two_apology_approvals(team, make_incident):
    rounds = max(10, _rounds() // 2)
    incident = make_incident(team["agent"].user, grade="Blue",
                             customers=[incident_services.CustomerData(name="Jiwoo Lee")],
                             **TOLD["en"])
    for _ in range(rounds):
        letter = apology_services.draft(team["agent"].user, incident, audience=Audience.customer,
                                        language="en", customer_id=incident.customers[0].id)
        # No compensation on this incident: the draft leaves the remedy as a gap, which blocks.
        apology_services.edit(team["agent"].user, letter, re.sub(
            r"\[[^\]\n]*\]", "You get a refund of the delivery fee.", letter.current.body))
        db.session.commit()
        body = {"override_reason": "Reviewed by the lead"}
        results = race(
            lambda x=letter.id, b=body: team["lead"].post(f"/api/v1/apologies/{x}/approve",
                                                          json=b),
            lambda x=letter.id, b=body: team["manager"].post(f"/api/v1/apologies/{x}/approve",
                                                             json=b))
        one_won(results)
    assert _events(incident.id, EventKind.apology_approved) == rounds


def _signed_in_client(app, user: User):
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def test_two_approvals_on_the_web(app, team, make_incident):
    incident = make_incident(team["agent"].user, grade="Blue")
    lead_web = _signed_in_client(app, team["lead"].user)
    manager_web = _signed_in_client(app, team["manager"].user)
    rounds = max(10, _rounds() // 2)
    for _ in range(rounds):
        comp = _proposal(team, incident)
        results = race(
            lambda c=comp.id: lead_web.post(f"/compensations/{c}/approve", data={"reason": ""}),
            lambda c=comp.id: manager_web.post(f"/compensations/{c}/approve",
                                            data={"reason": ""}))
        one_won(results, api=False)
    assert _events(incident.id, EventKind.compensation_approved) == rounds


def test_two_status_moves_on_the_web(app, team, make_incident):
    agent_web = _signed_in_client(app, team["agent"].user)
    lead_web = _signed_in_client(app, team["lead"].user)
    for _ in range(max(10, _rounds() // 5)):
        incident = make_incident(team["agent"].user, grade="Blue")
        results = race(
            lambda i=incident.id: agent_web.post(f"/incidents/{i}/status", data={
                "status": "shared", "expected": "detected"}),
            lambda i=incident.id: lead_web.post(f"/incidents/{i}/status", data={
                "status": "resolved", "expected": "detected"}))
        one_won(results, api=False)
        incident = db.session.get(Incident, incident.id)
        assert incident.status in (Status.shared, Status.resolved)
        assert _events(incident.id, EventKind.status_changed) == 1
