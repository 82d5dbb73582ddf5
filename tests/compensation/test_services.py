"""Compensation services without HTTP: proposing, deciding, paying, and the closing rule."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.errors import Conflict, Forbidden, NotFound, TransitionRefused, ValidationFailed
from app.extensions import db
from app.models import Role, User
from app.timeutil import as_utc
from incidents import services as incident_services
from incidents.compensation import services
from incidents.compensation.models import Compensation, CompStatus, CompType
from incidents.models import EventKind, Status, TimelineEvent
from tests.conftest import grade

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def person(app):
    """A user without a real password: services never check one, and hashing is slow."""
    counter = itertools.count(1)

    def make(role: str) -> User:
        n = next(counter)
        user = User(email=f"{role}-{n}@example.com", name=f"{role} {n}", title=role,
                    role=Role(role), password_hash="-", active=True, timezone="UTC")
        db.session.add(user)
        db.session.commit()
        return user
    return make


@pytest.fixture
def incident(person, make_incident):
    return make_incident(person("agent"), grade="Blue", customers=[
        incident_services.CustomerData(name="Jiwoo Lee", impact="Paid twice")])


def propose(actor, incident, amount, comp_type=CompType.refund, **kw) -> Compensation:
    comp = services.propose(actor, incident, comp_type=comp_type, amount=amount, **kw)
    db.session.commit()
    return comp


def events(incident, kind: EventKind) -> list[TimelineEvent]:
    return list(db.session.scalars(select(TimelineEvent).where(
        TimelineEvent.incident_id == incident.id, TimelineEvent.kind == kind)
        .order_by(TimelineEvent.id)))


def stored(comp: Compensation) -> tuple:
    """The row as the database holds it, after dropping whatever the session had."""
    db.session.rollback()
    db.session.refresh(comp)
    return (comp.status, comp.approved_by_id, comp.approved_at, comp.rejected_at, comp.paid_at,
            comp.cancelled_at, comp.reason)


# --- proposing ---------------------------------------------------------------------------------

def test_self_serve_is_approved_by_policy(person, incident):
    agent = person("agent")
    comp = propose(agent, incident, 5_000, CompType.coupon, now=T0)
    assert comp.status == CompStatus.approved
    assert comp.approved_via == "policy" and comp.approved_by is None
    assert as_utc(comp.approved_at) == T0
    assert comp.proposed_by == agent
    # Self-serve applies whatever the proposer asked: it is the policy, not the person.
    held = propose(agent, incident, 5_000, CompType.coupon, approve=False)
    assert held.approved_via == "policy"
    above = propose(agent, incident, 5_001, CompType.coupon, approve=False)
    assert above.status == CompStatus.proposed and above.approved_via is None
    approved = events(incident, EventKind.compensation_approved)
    assert approved[0].actor_id is None and approved[0].data["via"] == "policy"


def test_no_self_serve_on_red(person, make_incident):
    red = make_incident(person("agent"), grade="Red")
    comp = propose(person("agent"), red, 5_000, CompType.coupon)
    assert comp.status == CompStatus.proposed and comp.required_role == Role.lead


def test_proposer_within_their_limit_is_approved_in_the_same_step(person, incident):
    agent = person("agent")
    comp = propose(agent, incident, 50_000, now=T0)
    assert (comp.status, comp.approved_by, comp.approved_via) == (CompStatus.approved, agent, "role")
    assert as_utc(comp.approved_at) == T0 and comp.required_role == Role.agent
    held = propose(agent, incident, 50_000, approve=False)
    assert held.status == CompStatus.proposed and held.approved_at is None
    assert held.required_role == Role.agent
    services.approve(agent, held)  # later, by the same agent, within their limit
    assert held.status == CompStatus.approved


def test_no_approving_your_own_proposal_above_your_limit(person, incident):
    agent = person("agent")
    comp = propose(agent, incident, 50_001)
    assert comp.status == CompStatus.proposed and comp.required_role == Role.lead
    with pytest.raises(services.AuthorityExceeded) as caught:
        services.approve(agent, comp)
    assert caught.value.status == 403
    assert caught.value.to_dict()["error"]["code"] == "authority_exceeded"
    assert caught.value.to_dict()["error"]["required_role"] == "lead"
    assert "lead" in caught.value.message and "₩50,001" in caught.value.message
    assert stored(comp)[:3] == (CompStatus.proposed, None, None)


@pytest.mark.parametrize("amount", [0, -1, -50_000, 1.0, 12.5, True, False, "5000", None,
                                    services.AMOUNT_MAX + 1, 10**20])
def test_amount_must_be_positive_integer_minor_units(amount, person, incident):
    with pytest.raises(ValidationFailed) as caught:
        services.propose(person("agent"), incident, comp_type=CompType.refund, amount=amount)
    assert caught.value.status == 422 and "amount" in caught.value.fields
    db.session.rollback()
    assert services.for_incident(incident) == []


def test_largest_amount_is_accepted(person, incident):
    comp = propose(person("agent"), incident, services.AMOUNT_MAX)
    assert comp.amount == services.AMOUNT_MAX and comp.required_role == Role.admin
    db.session.expire_all()
    assert db.session.get(Compensation, comp.id).amount == 10**13


@pytest.mark.parametrize("currency", ["USD", "usd", "EUR"])
def test_currency_must_match_the_policy(currency, person, incident):
    with pytest.raises(ValidationFailed) as caught:
        services.propose(person("agent"), incident, comp_type=CompType.refund, amount=1_000,
                         currency=currency)
    assert caught.value.message == "Currency mismatch."
    assert "KRW" in caught.value.fields["currency"]
    db.session.rollback()
    assert services.for_incident(incident) == []


@pytest.mark.parametrize("currency", ["XYZ", "KR", "WON", "", "₩"])
def test_unknown_currency_is_refused(currency, person, incident):
    if currency == "":
        # An empty code means "the policy's currency".
        assert propose(person("agent"), incident, 1_000, currency="").currency == "KRW"
        return
    with pytest.raises(ValidationFailed) as caught:
        services.propose(person("agent"), incident, comp_type=CompType.refund, amount=1_000,
                         currency=currency)
    assert caught.value.message == "Unknown currency." and "currency" in caught.value.fields


def test_lowercase_policy_currency_is_accepted(person, incident):
    assert propose(person("agent"), incident, 1_000, currency=" krw ").currency == "KRW"


def test_customer_must_belong_to_the_incident(person, incident, make_incident):
    other = make_incident(person("agent"), customers=[
        incident_services.CustomerData(name="Someone else")])
    with pytest.raises(ValidationFailed) as caught:
        services.propose(person("agent"), incident, comp_type=CompType.refund, amount=1_000,
                         customer_id=other.customers[0].id)
    assert "customer_id" in caught.value.fields
    with pytest.raises(ValidationFailed):
        services.propose(person("agent"), incident, comp_type=CompType.refund, amount=1_000,
                         customer_id=999_999)
    db.session.rollback()
    own = propose(person("agent"), incident, 1_000, customer_id=incident.customers[0].id)
    assert own.customer.name == "Jiwoo Lee"


def test_no_proposing_on_a_closed_incident(person, incident):
    incident_services.change_status(person("agent"), incident, Status.closed)
    db.session.commit()
    with pytest.raises(Conflict) as caught:
        services.propose(person("agent"), incident, comp_type=CompType.refund, amount=1_000)
    assert caught.value.status == 409
    db.session.rollback()
    assert services.for_incident(incident) == []


def test_viewer_cannot_propose(person, incident):
    with pytest.raises(Forbidden):
        services.propose(person("viewer"), incident, comp_type=CompType.refund, amount=1_000)


def test_note_is_checked(person, incident):
    with pytest.raises(ValidationFailed) as caught:
        services.propose(person("agent"), incident, comp_type=CompType.refund, amount=1,
                         note="x" * 5001)
    assert "note" in caught.value.fields
    with pytest.raises(ValidationFailed):
        services.propose(person("agent"), incident, comp_type=CompType.refund, amount=1,
                         note="bad\x00byte")


# --- deciding, paying, cancelling --------------------------------------------------------------

def test_full_life_is_recorded_with_who_and_when(person, incident):
    agent, lead = person("agent"), person("lead")
    comp = propose(agent, incident, 120_000, note="Charged twice", now=T0)
    services.approve(lead, comp, now=T0 + timedelta(minutes=30))
    services.pay(agent, comp, note="Sent via PG", now=T0 + timedelta(hours=2))
    db.session.commit()
    db.session.expire_all()
    assert comp.status == CompStatus.paid
    assert (comp.proposed_by, comp.approved_by, comp.paid_by) == (agent, lead, agent)
    assert as_utc(comp.proposed_at) == T0
    assert as_utc(comp.approved_at) == T0 + timedelta(minutes=30)
    assert as_utc(comp.paid_at) == T0 + timedelta(hours=2)
    kinds = [e.kind for e in db.session.scalars(select(TimelineEvent).where(
        TimelineEvent.incident_id == incident.id, TimelineEvent.kind.in_([
            EventKind.compensation_proposed, EventKind.compensation_approved,
            EventKind.compensation_paid])).order_by(TimelineEvent.id))]
    assert kinds == [EventKind.compensation_proposed, EventKind.compensation_approved,
                     EventKind.compensation_paid]
    proposed = events(incident, EventKind.compensation_proposed)[0]
    assert proposed.body == "Charged twice" and proposed.actor == agent
    assert proposed.data == {"compensation_id": comp.id, "type": "refund", "amount": 120_000,
                             "currency": "KRW"}
    assert events(incident, EventKind.compensation_approved)[0].actor == lead
    assert events(incident, EventKind.compensation_paid)[0].body == "Sent via PG"


def test_no_double_pay(person, incident):
    agent = person("agent")
    comp = propose(agent, incident, 10_000)
    services.pay(agent, comp)
    db.session.commit()
    before = stored(comp)
    with pytest.raises(Conflict) as caught:
        services.pay(person("manager"), comp)
    assert caught.value.status == 409
    assert stored(comp) == before
    assert len(events(incident, EventKind.compensation_paid)) == 1


def test_no_paying_before_approval(person, incident):
    comp = propose(person("agent"), incident, 100_000)
    with pytest.raises(Conflict):
        services.pay(person("lead"), comp)
    assert stored(comp)[0] == CompStatus.proposed


def test_no_approving_twice(person, incident):
    comp = propose(person("agent"), incident, 10_000)
    with pytest.raises(Conflict):
        services.approve(person("lead"), comp)


def test_reject_needs_a_reason_and_the_authority(person, incident):
    agent, lead = person("agent"), person("lead")
    comp = propose(agent, incident, 60_000)
    with pytest.raises(services.AuthorityExceeded) as caught:
        services.reject(agent, comp, "Not our fault")
    assert caught.value.extra["required_role"] == "lead"
    for reason in ("", "   "):
        with pytest.raises(ValidationFailed) as caught:
            services.reject(lead, comp, reason)
        assert "reason" in caught.value.fields
    assert stored(comp)[0] == CompStatus.proposed
    services.reject(lead, comp, "  Duplicate of #3  ", now=T0)
    db.session.commit()
    assert comp.status == CompStatus.rejected and comp.reason == "Duplicate of #3"
    assert comp.decided_by == lead and as_utc(comp.rejected_at) == T0
    assert comp.approved_at is None and comp.approved_by is None
    assert events(incident, EventKind.compensation_rejected)[0].body == "Duplicate of #3"
    for act in (lambda: services.approve(lead, comp), lambda: services.pay(lead, comp),
                lambda: services.cancel(lead, comp), lambda: services.reject(lead, comp, "x")):
        with pytest.raises(Conflict):
            act()


@pytest.mark.parametrize("start", ["proposed", "approved"])
def test_cancel_from_proposed_or_approved(start, person, incident):
    agent = person("agent")
    comp = propose(agent, incident, 10_000, approve=start == "approved")
    assert comp.status == CompStatus(start)
    services.cancel(agent, comp, "Customer withdrew", now=T0)
    db.session.commit()
    assert comp.status == CompStatus.cancelled and comp.cancelled_by == agent
    assert as_utc(comp.cancelled_at) == T0 and comp.reason == "Customer withdrew"
    assert events(incident, EventKind.compensation_cancelled)[0].body == "Customer withdrew"


@pytest.mark.parametrize("end", ["paid", "rejected", "cancelled"])
def test_no_cancel_after_settling(end, person, incident):
    agent, lead = person("agent"), person("lead")
    comp = propose(agent, incident, 10_000, approve=end == "paid")
    {"paid": lambda: services.pay(agent, comp),
     "rejected": lambda: services.reject(lead, comp, "no"),
     "cancelled": lambda: services.cancel(agent, comp)}[end]()
    db.session.commit()
    before = stored(comp)
    with pytest.raises(Conflict) as caught:
        services.cancel(lead, comp, "late")
    assert end in caught.value.message
    assert stored(comp) == before


def test_viewer_cannot_decide_pay_or_cancel(person, incident):
    comp = propose(person("agent"), incident, 10_000)
    viewer = person("viewer")
    for act in (services.pay, services.cancel):
        with pytest.raises(Forbidden):
            act(viewer, comp)
    assert stored(comp)[0] == CompStatus.approved


def test_get_compensation_not_found(app):
    with pytest.raises(NotFound) as caught:
        services.get_compensation(404_404)
    assert caught.value.status == 404 and "404404" in caught.value.message


# --- the approval queue ------------------------------------------------------------------------

def test_queue_holds_exactly_the_roles_proposals_oldest_first(person, incident, make_incident):
    agent = person("agent")
    red = make_incident(agent, grade="Red")
    late = propose(agent, incident, 60_000, now=T0 + timedelta(hours=2))
    early = propose(agent, red, 1_000, now=T0)           # Red: agents escalate everything
    middle = propose(agent, incident, 300_000, now=T0 + timedelta(hours=1))
    for_manager = propose(agent, incident, 300_001, now=T0)
    for_admin = propose(agent, incident, 3_000_001, now=T0)
    propose(agent, incident, 1_000)                       # approved at once: in no queue
    decided = propose(agent, incident, 70_000, now=T0 - timedelta(hours=1))
    services.reject(person("lead"), decided, "no")
    db.session.commit()
    assert services.queue(person("lead")) == [early, middle, late]
    assert services.queue(person("manager")) == [for_manager]
    assert services.queue(person("admin")) == [for_admin]
    assert services.queue(person("agent")) == []
    assert services.queue(person("viewer")) == []


# --- the policy moves waiting proposals -------------------------------------------------------

def test_policy_change_raises_but_never_lowers_the_bar_of_waiting_proposals(person, incident):
    agent, admin = person("agent"), person("admin")
    waiting = propose(agent, incident, 60_000)
    approved = propose(agent, incident, 40_000)
    assert waiting.required_role == Role.lead
    services.set_policy(admin, "KRW", [services.RuleData(
        CompType.refund, grade("Blue"), None, 40_000, 50_000, 100_000)])
    db.session.commit()
    assert waiting.required_role == Role.manager
    assert approved.required_role == Role.agent  # settled history is left alone
    assert services.queue(person("manager")) == [waiting]
    assert services.queue(person("lead")) == []
    services.set_policy(admin, "KRW", [services.RuleData(
        CompType.refund, grade("Blue"), None, 60_000, 300_000, 3_000_000)])
    db.session.commit()
    # A looser policy is for what is proposed from now on; this one was proposed when a
    # manager had to decide it, and a manager still does.
    assert waiting.required_role == Role.manager
    with pytest.raises(services.AuthorityExceeded):
        services.approve(agent, waiting)
    with pytest.raises(services.AuthorityExceeded):
        services.approve(person("lead"), waiting)
    services.approve(person("manager"), waiting)
    assert waiting.status == CompStatus.approved
    assert propose(agent, incident, 60_000).status == CompStatus.approved  # the new limit


def test_currency_change_waits_for_open_compensations(person, incident):
    agent, admin = person("agent"), person("admin")
    comp = propose(agent, incident, 10_000)  # approved, unpaid
    with pytest.raises(Conflict) as caught:
        services.set_policy(admin, "USD", [])
    assert "KRW" in caught.value.message
    db.session.rollback()
    assert services.policy_currency() == "KRW"
    services.pay(agent, comp)
    services.set_policy(admin, "usd", [])
    db.session.commit()
    assert services.policy_currency() == "USD"
    with pytest.raises(ValidationFailed):
        services.propose(agent, incident, comp_type=CompType.refund, amount=1_000, currency="KRW")
    assert propose(agent, incident, 1_000).currency == "USD"


# --- closing -----------------------------------------------------------------------------------

@pytest.mark.parametrize("settle", ["pay", "cancel", "reject"])
def test_unsettled_compensation_blocks_closing(settle, person, incident):
    agent, lead = person("agent"), person("lead")
    waiting = propose(agent, incident, 60_000)
    unpaid = propose(agent, incident, 10_000, CompType.coupon)
    with pytest.raises(TransitionRefused) as caught:
        incident_services.change_status(agent, incident, Status.closed)
    message = caught.value.message
    assert f"#{waiting.id} refund ₩60,000" in message and "waiting for Lead approval" in message
    assert f"#{unpaid.id} coupon ₩10,000" in message and "not yet paid" in message
    assert len(caught.value.extra["problems"]) == 2
    db.session.rollback()
    assert incident.status == Status.detected and incident.closed_at is None
    services.pay(agent, unpaid)
    if settle == "pay":
        services.approve(lead, waiting)
        services.pay(agent, waiting)
    elif settle == "cancel":
        services.cancel(agent, waiting)
    else:
        services.reject(lead, waiting, "Not our fault")
    incident_services.change_status(agent, incident, Status.closed)
    db.session.commit()
    assert incident.status == Status.closed


def test_approved_but_unpaid_alone_blocks_closing(person, incident):
    agent = person("agent")
    comp = propose(agent, incident, 10_000)
    with pytest.raises(TransitionRefused, match="approved but not yet paid"):
        incident_services.change_status(agent, incident, Status.closed)
    db.session.rollback()
    services.pay(agent, comp)
    incident_services.change_status(agent, incident, Status.closed)
    assert incident.status == Status.closed
