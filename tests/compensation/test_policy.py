"""Authority limits: every role against every limit of the seeded policy, and policies we set."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from app.errors import Forbidden, ValidationFailed
from app.extensions import db
from app.models import Role, User
from incidents.compensation import services
from incidents.compensation.models import AuthorityRule, Compensation, CompStatus, CompType
from tests.conftest import grade

ROLES = ("agent", "lead", "manager", "admin", "viewer")
TYPES = [t.value for t in CompType]
GRADES = ("Red", "Orange", "Blue", "Green")

# The seeded policy, written out again here (won): (self-serve on Blue/Green, agent, lead,
# manager); on Red agents may approve nothing. A copy, so a changed migration fails loudly.
SEEDED = {
    "refund": (None, 50_000, 300_000, 3_000_000),
    "replacement": (None, 50_000, 300_000, 3_000_000),
    "coupon": (5_000, 30_000, 100_000, 1_000_000),
    "credit": (None, 30_000, 200_000, 2_000_000),
    "service_extension": (None, 50_000, 200_000, 2_000_000),
    "cash": (None, None, None, 1_000_000),
}
APPROVERS = ("agent", "lead", "manager")


def seeded_limits(comp_type: str, grade_name: str) -> dict[str, int | None]:
    self_serve, agent, lead, manager = SEEDED[comp_type]
    return {"self_serve": self_serve if grade_name in ("Blue", "Green") else None,
            "agent": None if grade_name == "Red" else agent, "lead": lead, "manager": manager}


def effective(limits: dict[str, int | None], role: str) -> int | None:
    """The issue's rule: a role may approve up to the highest of its own and its juniors' limits."""
    if role not in APPROVERS:
        return None
    own = [limits[r] for r in APPROVERS[:APPROVERS.index(role) + 1] if limits[r] is not None]
    return max(own) if own else None


def expected_required(limits: dict[str, int | None], amount: int) -> str:
    for role in APPROVERS:
        limit = effective(limits, role)
        if limit is not None and amount <= limit:
            return role
    return "admin"


@pytest.fixture
def person(app):
    """A user without a real password: services never check one, and hashing is slow."""
    counter = itertools.count(1)

    def make(role: str, **kw) -> User:
        n = next(counter)
        user = User(email=f"{role}-{n}@example.com", name=f"{role} {n}", title=role,
                    role=Role(role), password_hash="-", active=kw.pop("active", True),
                    timezone="UTC")
        db.session.add(user)
        db.session.commit()
        return user
    return make


def test_the_seeded_policy_is_the_documented_one(app):
    rules = db.session.scalars(select(AuthorityRule)).all()
    assert len(rules) == len(TYPES) * len(GRADES)
    for rule in rules:
        limits = seeded_limits(rule.type.value, rule.grade.name)
        assert (rule.self_serve, rule.agent, rule.lead, rule.manager) == (
            limits["self_serve"], limits["agent"], limits["lead"], limits["manager"]), rule.type
    assert services.policy_currency() == "KRW"


@pytest.mark.parametrize("grade_name", GRADES)
@pytest.mark.parametrize("comp_type", TYPES)
@pytest.mark.parametrize("role", ROLES)
def test_every_role_at_every_limit(role, comp_type, grade_name, person, make_incident):
    """Equal to the role's effective limit is approved; one won more is refused and names who decides."""
    limits = seeded_limits(comp_type, grade_name)
    proposer = person("agent")
    incident = make_incident(proposer, grade=grade_name)
    approver = person(role)
    kind = CompType(comp_type)
    floor = (limits["self_serve"] or 0) + 1  # the least amount that is not self-serve

    def proposal(amount: int) -> Compensation:
        comp = services.propose(proposer, incident, comp_type=kind, amount=amount, approve=False)
        db.session.commit()
        assert comp.status == CompStatus.proposed
        assert comp.required_role.value == expected_required(limits, amount)
        return comp

    if role == "viewer":
        comp = proposal(floor)
        for act in (lambda: services.approve(approver, comp),
                    lambda: services.reject(approver, comp, "no")):
            with pytest.raises(Forbidden) as caught:
                act()
            assert caught.value.code == "forbidden"
        with pytest.raises(Forbidden):
            services.propose(approver, incident, comp_type=kind, amount=floor)
        assert comp.status == CompStatus.proposed and comp.approved_at is None
        return

    if role == "admin":
        # The top of the funnel: beyond every limit, an admin decides.
        top = max([v for v in limits.values() if v is not None] or [0]) + 1
        comp = proposal(top)
        assert comp.required_role == Role.admin
        services.approve(approver, comp)
        db.session.commit()
        assert (comp.status, comp.approved_by, comp.approved_via) == (
            CompStatus.approved, approver, "role")
        huge = services.propose(approver, incident, comp_type=kind, amount=services.AMOUNT_MAX)
        assert huge.status == CompStatus.approved and huge.approved_by == approver
        return

    limit = effective(limits, role)
    if limit is None:
        comp = proposal(floor)
        with pytest.raises(services.AuthorityExceeded) as caught:
            services.approve(approver, comp)
        assert caught.value.status == 403
        assert caught.value.extra["required_role"] == expected_required(limits, floor)
        assert comp.status == CompStatus.proposed and comp.approved_by is None
        own = services.propose(approver, incident, comp_type=kind, amount=floor)
        assert own.status == CompStatus.proposed
        return

    at_limit = proposal(limit)
    services.approve(approver, at_limit)
    db.session.commit()
    assert at_limit.status == CompStatus.approved
    assert (at_limit.approved_by, at_limit.approved_via) == (approver, "role")
    assert at_limit.approved_at is not None

    above = proposal(limit + 1)
    assert Role(above.required_role).rank > Role(role).rank
    with pytest.raises(services.AuthorityExceeded) as caught:
        services.approve(approver, above)
    assert caught.value.extra["required_role"] == expected_required(limits, limit + 1)
    with pytest.raises(services.AuthorityExceeded):
        services.reject(approver, above, "too much")
    db.session.rollback()
    db.session.refresh(above)
    assert above.status == CompStatus.proposed
    assert above.approved_at is None and above.approved_by_id is None and above.rejected_at is None

    # Proposing within one's own limit approves in the same step; above it, it waits.
    mine = services.propose(approver, incident, comp_type=kind, amount=limit)
    assert (mine.status, mine.approved_by, mine.approved_via) == (CompStatus.approved, approver, "role")
    waiting = services.propose(approver, incident, comp_type=kind, amount=limit + 1)
    assert waiting.status == CompStatus.proposed and waiting.approved_by is None


def rule_data(comp_type: CompType, grade_name: str, self_serve=None, agent=None, lead=None,
              manager=None) -> services.RuleData:
    return services.RuleData(comp_type, grade(grade_name), self_serve, agent, lead, manager)


def test_a_junior_limit_above_a_senior_one_carries_up(person, make_incident):
    """Effective limit = max of own and junior roles' limits, under a policy we set."""
    admin = person("admin")
    services.set_policy(admin, "KRW", [rule_data(CompType.refund, "Blue", agent=80_000,
                                                 lead=50_000, manager=None)])
    db.session.commit()
    rule = services.rule_for(CompType.refund, grade("Blue"))
    assert services.effective_limit(rule, Role.agent) == 80_000
    assert services.effective_limit(rule, Role.lead) == 80_000
    assert services.effective_limit(rule, Role.manager) == 80_000
    assert services.effective_limit(rule, Role.viewer) is None
    assert services.required_role(rule, 80_000) == Role.agent
    assert services.required_role(rule, 80_001) == Role.admin
    incident = make_incident(person("agent"), grade="Blue")
    for role in ("lead", "manager"):
        comp = services.propose(person("agent"), incident, comp_type=CompType.refund,
                                amount=80_000, approve=False)
        services.approve(person(role), comp)
        assert comp.status == CompStatus.approved
    comp = services.propose(person("agent"), incident, comp_type=CompType.refund, amount=80_001)
    with pytest.raises(services.AuthorityExceeded) as caught:
        services.approve(person("manager"), comp)
    assert caught.value.extra == {"required_role": "admin"}


def test_a_pair_without_a_rule_needs_an_admin(person, make_incident):
    db.session.execute(AuthorityRule.__table__.delete().where(
        AuthorityRule.type == CompType.credit, AuthorityRule.grade_id == grade("Green").id))
    db.session.commit()
    incident = make_incident(person("agent"), grade="Green")
    comp = services.propose(person("manager"), incident, comp_type=CompType.credit, amount=1)
    assert comp.status == CompStatus.proposed and comp.required_role == Role.admin
    services.approve(person("admin"), comp)
    assert comp.status == CompStatus.approved


def test_an_inactive_approver_is_refused(person, make_incident):
    incident = make_incident(person("agent"))
    comp = services.propose(person("agent"), incident, comp_type=CompType.refund, amount=100_000)
    with pytest.raises(Forbidden):
        services.approve(person("manager", active=False), comp)
    with pytest.raises(Forbidden):
        services.approve(person("admin", active=False), comp)
    assert comp.status == CompStatus.proposed


def test_set_policy_is_admin_only(person):
    for role in ("viewer", "agent", "lead", "manager"):
        with pytest.raises(Forbidden):
            services.set_policy(person(role), "KRW", [rule_data(CompType.refund, "Blue", agent=1)])
    db.session.rollback()
    assert services.rule_for(CompType.refund, grade("Blue")).agent == 50_000


@pytest.mark.parametrize("bad", [-1, services.AMOUNT_MAX + 1])
def test_set_policy_refuses_bad_limits(bad, person):
    with pytest.raises(ValidationFailed) as caught:
        services.set_policy(person("admin"), "KRW", [rule_data(CompType.refund, "Blue", lead=bad)])
    assert "rules.0.lead" in caught.value.fields
    db.session.rollback()
    assert services.rule_for(CompType.refund, grade("Blue")).lead == 300_000


def test_set_policy_refuses_duplicates_and_unknown_currency(person):
    admin = person("admin")
    with pytest.raises(ValidationFailed) as caught:
        services.set_policy(admin, "KRW", [rule_data(CompType.refund, "Blue", agent=1),
                                           rule_data(CompType.refund, "Blue", agent=2)])
    assert "rules.1" in caught.value.fields
    with pytest.raises(ValidationFailed) as caught:
        services.set_policy(admin, "XYZ", [])
    assert "currency" in caught.value.fields
    db.session.rollback()
    assert services.rule_for(CompType.refund, grade("Blue")).agent == 50_000
    assert services.policy_currency() == "KRW"


def test_own_limits_show_what_each_role_may_approve(person):
    blue, red = grade("Blue"), grade("Red")
    for role in ROLES:
        user = person(role)
        for g in (blue, red):
            shown = services.own_limits(user, g)
            for comp_type in CompType:
                limits = seeded_limits(comp_type.value, g.name)
                mine, self_serve = shown[comp_type]
                assert self_serve == limits["self_serve"]
                if role == "viewer":
                    assert mine is None
                elif role != "admin":
                    assert mine == effective(limits, role), (role, g.name, comp_type)
