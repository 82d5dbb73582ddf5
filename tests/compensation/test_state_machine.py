"""Random sequences of compensation actions never reach an impossible state or an approval
above the approver's authority (Hypothesis stateful testing over the services)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from app.errors import Conflict, DomainError, Forbidden, TransitionRefused, ValidationFailed
from app.extensions import db
from app.models import Role, User
from incidents import services as incident_services
from incidents.compensation import services
from incidents.compensation.models import AuthorityRule, Compensation, CompType
from incidents.models import Status
from tests.conftest import grade

ROLES = ("viewer", "agent", "lead", "manager", "admin")
APPROVERS = ("agent", "lead", "manager")
GRADES = ("Red", "Orange", "Blue", "Green")
NEEDS_POSTMORTEM = {"Red", "Orange"}
T0 = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)

NEXT = {"proposed": {"approved", "rejected", "cancelled"}, "approved": {"paid", "cancelled"},
        "rejected": set(), "paid": set(), "cancelled": set()}

# Amounts near the seeded limits are the interesting ones.
EDGES = sorted({v + d for v in (5_000, 30_000, 50_000, 100_000, 200_000, 300_000, 1_000_000,
                                2_000_000, 3_000_000) for d in (-1, 0, 1)})
amounts = st.one_of(st.sampled_from(EDGES), st.integers(1, 4_000_000),
                    st.sampled_from([0, -1, services.AMOUNT_MAX, services.AMOUNT_MAX + 1]))
limits = st.one_of(st.none(), st.sampled_from(EDGES), st.integers(0, 4_000_000))


def effective(rule: tuple, role: str) -> int | None:
    """Written from the issue, not from the service: the highest of own and junior limits."""
    if role not in APPROVERS:
        return None
    own = [rule[1 + i] for i in range(APPROVERS.index(role) + 1) if rule[1 + i] is not None]
    return max(own) if own else None


def may_decide(rule: tuple, role: str, amount: int) -> bool:
    if role == "admin":
        return True
    limit = effective(rule, role)
    return limit is not None and amount <= limit


def required(rule: tuple, amount: int) -> str:
    return next((r for r in APPROVERS if (lim := effective(rule, r)) is not None and amount <= lim),
                "admin")


def senior(a: str, b: str) -> str:
    return max(a, b, key=ROLES.index)


@dataclass
class Shadow:
    """What the model expects of one compensation."""
    id: int
    incident: str  # grade name
    type: CompType
    amount: int
    currency: str
    status: str
    approvals: list[tuple] = field(default_factory=list)  # (approver role or "policy", limit)
    floor: str = "agent"  # the least role that was ever required to decide it: never lowered


def outcome(expected: set[type], act) -> object | None:
    """Run `act` in a savepoint, as a request would roll back; check it failed as expected."""
    try:
        with db.session.begin_nested():
            result = act()
    except DomainError as err:
        assert expected, f"refused unexpectedly: {type(err).__name__}: {err.message}"
        assert isinstance(err, tuple(expected)), (type(err), expected, err.message)
        return None
    assert not expected, f"expected one of {expected}, but it succeeded"
    return result


def test_random_action_sequences_keep_compensations_sound(app, make_incident):
    people = {}
    for role in ROLES:
        people[role] = User(email=f"sm-{role}@example.com", name=role, title=role, role=Role(role),
                            password_hash="-", active=True, timezone="UTC")
        db.session.add(people[role])
    db.session.commit()
    incidents = {g: make_incident(people["agent"], grade=g, customers=[
        incident_services.CustomerData(name=f"Customer of {g}")]) for g in GRADES}
    seeded = {(r.type, r.grade.name): (r.self_serve, r.agent, r.lead, r.manager)
              for r in db.session.scalars(select(AuthorityRule))}
    user_ids = {role: u.id for role, u in people.items()}
    incident_ids = {g: i.id for g, i in incidents.items()}
    customer_ids = {g: i.customers[0].id for g, i in incidents.items()}

    class Machine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.policy = dict(seeded)
            self.currency = "KRW"
            self.comps: list[Shadow] = []
            self.closed: set[str] = set()
            self.clock = T0
            self.last: Shadow | None = None

        def tick(self) -> datetime:
            self.clock += timedelta(minutes=7)
            return self.clock

        def user(self, role: str) -> User:
            return db.session.get(User, user_ids[role])

        def incident(self, grade_name: str):
            return incident_services.get_incident(incident_ids[grade_name])

        def limits_of(self, shadow_or_type, grade_name: str | None = None) -> tuple:
            if isinstance(shadow_or_type, Shadow):
                return self.policy.get((shadow_or_type.type, shadow_or_type.incident),
                                       (None, None, None, None))
            return self.policy.get((shadow_or_type, grade_name), (None, None, None, None))

        def teardown(self):
            db.session.rollback()  # nothing was committed: the next run starts clean

        # --- actions: one rule draws which, so their mix is ours, not the engine's ----------

        @rule(action=st.sampled_from(["propose"] * 4 + ["decide"] * 5 + ["policy", "close",
                                                                          "reopen"]),
              data=st.data())
        def step(self, action, data):
            if action == "decide" and not self.comps or action == "reopen" and not self.closed:
                action = "propose"
            getattr(self, f"do_{action}")(data)

        def do_propose(self, data):
            role = data.draw(st.sampled_from(ROLES[1:] * 3 + ROLES[:1]), label="role")
            grade_name = data.draw(st.sampled_from(GRADES), label="grade")
            comp_type = data.draw(st.sampled_from(list(CompType)), label="type")
            # Mostly right at a limit of the rule in force: one unit either side is the test.
            edges = sorted({v + d for v in self.limits_of(comp_type, grade_name) if v is not None
                            for d in (-1, 0, 1) if v + d > 0})
            amount = data.draw(st.one_of(st.sampled_from(edges), amounts) if edges else amounts,
                               label="amount")
            approve = data.draw(st.booleans(), label="approve")
            currency = data.draw(st.sampled_from([None] * 6 + ["KRW", "USD"]), label="currency")
            customer = data.draw(st.sampled_from(["none"] * 4 + ["own"] * 2 + ["other"]),
                                 label="customer")
            other = next(g for g in GRADES if g != grade_name)
            customer_id = {"none": None, "own": customer_ids[grade_name],
                           "other": customer_ids[other]}[customer]
            expected: set[type] = set()
            if role == "viewer":
                expected.add(Forbidden)
            if not 0 < amount <= services.AMOUNT_MAX:
                expected.add(ValidationFailed)
            if currency is not None and currency != self.currency:
                expected.add(ValidationFailed)
            if customer == "other":
                expected.add(ValidationFailed)
            if grade_name in self.closed:
                expected.add(Conflict)
            now = self.tick()
            comp = outcome(expected, lambda: services.propose(
                self.user(role), self.incident(grade_name), comp_type=comp_type, amount=amount,
                currency=currency, customer_id=customer_id, approve=approve, now=now))
            if comp is None:
                return
            policy_rule = self.limits_of(comp_type, grade_name)
            shadow = Shadow(comp.id, grade_name, comp_type, amount, self.currency, "proposed",
                            floor=required(policy_rule, amount))
            self_serve = policy_rule[0]
            if self_serve is not None and amount <= self_serve:
                shadow.status = "approved"
                shadow.approvals.append(("policy", self_serve))
                assert comp.approved_via == "policy" and comp.approved_by is None
            elif approve and may_decide(policy_rule, role, amount):
                shadow.status = "approved"
                shadow.approvals.append((role, effective(policy_rule, role)))
                assert comp.approved_via == "role" and comp.approved_by_id == user_ids[role]
            assert comp.status.value == shadow.status, (role, amount, policy_rule, approve)
            assert comp.required_role.value == required(policy_rule, amount)
            self.comps.append(shadow)
            self.last = shadow

        def do_decide(self, data):
            # Often the record acted on last, so that chains (reject, then cancel) happen.
            pick = data.draw(st.sampled_from(["last", "last", "any"]), label="pick")
            shadow = self.last if pick == "last" else data.draw(st.sampled_from(self.comps),
                                                                label="which")
            role = data.draw(st.sampled_from(ROLES[1:] * 3 + ROLES[:1]), label="role")
            action = data.draw(st.sampled_from(["approve"] * 3 + ["reject"] * 2 + ["pay"] * 2
                                               + ["cancel"] * 2), label="action")
            reason = data.draw(st.sampled_from(["", "  "] + ["Customer withdrew", "Duplicate"] * 2),
                               label="reason")
            comp = services.get_compensation(shadow.id)
            policy_rule = self.limits_of(shadow)
            expected: set[type] = set()
            if role == "viewer":
                expected.add(Forbidden)
            if action in ("approve", "reject"):
                if shadow.status != "proposed":
                    expected.add(Conflict)
                # Today's policy, and never less than what was required when it was proposed.
                below_floor = role != "admin" and ROLES.index(role) < ROLES.index(shadow.floor)
                if not may_decide(policy_rule, role, shadow.amount) or below_floor:
                    expected.add(services.AuthorityExceeded)
                if action == "reject" and not reason.strip():
                    expected.add(ValidationFailed)
            elif action == "pay" and shadow.status != "approved" or action == "cancel" and shadow.status not in ("proposed", "approved"):
                expected.add(Conflict)
            self.last = shadow
            actor, now = self.user(role), self.tick()
            act = {"approve": lambda: services.approve(actor, comp, now=now),
                   "reject": lambda: services.reject(actor, comp, reason, now=now),
                   "pay": lambda: services.pay(actor, comp, now=now),
                   "cancel": lambda: services.cancel(actor, comp, reason, now=now)}[action]
            if outcome(expected, act) is None:
                return
            shadow.status = {"approve": "approved", "reject": "rejected", "pay": "paid",
                             "cancel": "cancelled"}[action]
            if action == "approve":
                # The heart of the matter: the approver's authority at this very moment.
                limit = effective(policy_rule, role)
                assert role == "admin" or (limit is not None and limit >= shadow.amount)
                shadow.approvals.append((role, limit))

        def do_policy(self, data):
            role = data.draw(st.sampled_from(["admin"] * 4 + ["manager"]), label="role")
            changes = data.draw(st.lists(st.tuples(
                st.sampled_from(list(CompType)), st.sampled_from(GRADES),
                limits, limits, limits, limits), max_size=6), label="rules")
            currency = data.draw(st.sampled_from(["KRW"] * 3 + ["USD"]), label="currency")
            rule_data = [services.RuleData(t, grade(g), *values) for t, g, *values in changes]
            keys = [(t, g) for t, g, *_ in changes]
            expected: set[type] = set()
            if role != "admin":
                expected.add(Forbidden)
            if len(set(keys)) != len(keys):
                expected.add(ValidationFailed)
            if currency != self.currency and any(
                    s.status in ("proposed", "approved") and s.currency != currency
                    for s in self.comps):
                expected.add(Conflict)
            if outcome(expected, lambda: services.set_policy(
                    self.user(role), currency, rule_data)) is None:
                return
            self.currency = currency
            for t, g, *values in changes:
                self.policy[(t, g)] = tuple(values)
            for shadow in self.comps:  # a stricter policy raises the bar of waiting proposals
                if shadow.status == "proposed":
                    shadow.floor = senior(shadow.floor, required(self.limits_of(shadow),
                                                                 shadow.amount))

        def do_close(self, data):
            role = data.draw(st.sampled_from(ROLES), label="role")
            grade_name = data.draw(st.sampled_from(GRADES), label="grade")
            incident = self.incident(grade_name)
            expected: set[type] = set()
            if role == "viewer":
                expected.add(Forbidden)
            if (grade_name in self.closed or grade_name in NEEDS_POSTMORTEM or any(
                    s.incident == grade_name and s.status in ("proposed", "approved")
                    for s in self.comps)):
                expected.add(TransitionRefused)
            if outcome(expected, lambda: incident_services.change_status(
                    self.user(role), incident, Status.closed, now=self.tick())) is not None:
                self.closed.add(grade_name)

        def do_reopen(self, data):
            grade_name = data.draw(st.sampled_from(sorted(self.closed)), label="grade")
            outcome(set(), lambda: incident_services.change_status(
                self.user("lead"), self.incident(grade_name), Status.shared, now=self.tick()))
            self.closed.discard(grade_name)

        # --- what must always hold ----------------------------------------------------------

        @invariant()
        def records_are_possible(self):
            db.session.flush()
            by_id = {s.id: s for s in self.comps}
            found = list(db.session.scalars(select(Compensation).where(
                Compensation.id.in_(list(by_id)))))
            assert len(found) == len(self.comps)
            for comp in found:
                shadow = by_id[comp.id]
                status = comp.status.value
                assert status == shadow.status, (comp.id, status, shadow.status)
                if status == "proposed":
                    assert (comp.approved_at, comp.approved_by_id, comp.approved_via) == (
                        None, None, None)
                    assert comp.rejected_at is None and comp.paid_at is None
                    assert comp.cancelled_at is None
                    # Waiting proposals follow a stricter policy, never a looser one.
                    assert comp.required_role.value == shadow.floor
                    assert ROLES.index(shadow.floor) >= ROLES.index(
                        required(self.limits_of(shadow), comp.amount))
                if status in ("approved", "paid"):
                    assert comp.approved_at is not None
                    assert comp.approved_via in ("policy", "role")
                    if comp.approved_via == "policy":
                        assert comp.approved_by_id is None
                        assert shadow.approvals[-1][0] == "policy"
                        assert comp.amount <= shadow.approvals[-1][1]
                    else:
                        assert comp.approved_by_id is not None
                        approver = db.session.get(User, comp.approved_by_id)
                        recorded_role, recorded_limit = shadow.approvals[-1]
                        assert approver.role.value == recorded_role
                        assert recorded_role == "admin" or comp.amount <= recorded_limit
                    assert comp.rejected_at is None
                if status == "paid":
                    assert comp.paid_at is not None and comp.paid_by_id is not None
                    assert comp.paid_at >= comp.approved_at
                if status == "rejected":
                    assert comp.approved_at is None and comp.approved_by_id is None
                    assert comp.rejected_at is not None and comp.decided_by_id is not None
                    assert comp.reason.strip()
                    assert comp.paid_at is None and comp.cancelled_at is None
                if status == "cancelled":
                    assert comp.cancelled_at is not None and comp.cancelled_by_id is not None
                    assert comp.paid_at is None and comp.rejected_at is None
                assert len(shadow.approvals) <= 1  # approved once at most
                assert 0 < comp.amount <= services.AMOUNT_MAX

        @invariant()
        def statuses_move_only_forward(self):
            seen = getattr(self, "_seen", {})
            for shadow in self.comps:
                before = seen.get(shadow.id)
                if before is not None and before != shadow.status:
                    assert shadow.status in NEXT[before], (before, shadow.status)
                seen[shadow.id] = shadow.status
            self._seen = seen

        @invariant()
        def closed_incidents_owe_nothing(self):
            for grade_name in self.closed:
                assert self.incident(grade_name).status == Status.closed
                assert not [s for s in self.comps if s.incident == grade_name
                            and s.status in ("proposed", "approved")]

    run_state_machine_as_test(Machine, settings=settings(
        max_examples=80, stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))


@pytest.mark.parametrize("role", ["agent", "lead", "manager"])
def test_the_model_agrees_with_the_service_on_the_seeded_policy(role, app):
    """The state machine's own reading of the rules matches the service on every seeded rule."""
    for rule_row in db.session.scalars(select(AuthorityRule)):
        values = (rule_row.self_serve, rule_row.agent, rule_row.lead, rule_row.manager)
        assert services.effective_limit(rule_row, Role(role)) == effective(values, role)
        for amount in EDGES:
            assert services.required_role(rule_row, amount).value == required(values, amount)
