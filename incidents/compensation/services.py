"""Compensation rules: propose, approve within authority, reject, pay, cancel.

Limits come from the authority policy (per type and grade). Each step records
who and when and adds a timeline event. Services flush; callers commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select

from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.i18n import gettext as _
from app.models import Category, Grade, Role, User, get_setting, put_setting
from app.money import format_money, is_currency
from app.templating import role_label
from app.textcheck import bad_text
from app.timeutil import utcnow
from incidents.compensation import report
from incidents.compensation.models import (
    APPROVER_ROLES,
    UNSETTLED,
    AuthorityRule,
    Compensation,
    CompStatus,
    CompType,
)
from incidents.compensation.report import Row
from incidents.models import EventKind, Incident, Status
from incidents.services import close_check, record_event, require_role
from incidents.services import updated_hooks as incident_updated_hooks

AMOUNT_MAX = 10**13
CURRENCY_KEY = "policy_currency"
DEFAULT_CURRENCY = "KRW"


class AuthorityExceeded(Forbidden):
    code = "authority_exceeded"


def policy_currency() -> str:
    return get_setting(CURRENCY_KEY, DEFAULT_CURRENCY)


def get_compensation(comp_id: int) -> Compensation:
    comp = db.session.get(Compensation, comp_id)
    if comp is None:
        raise NotFound(_("Compensation %(id)s does not exist.", id=comp_id))
    return comp


def rule_for(comp_type: CompType, grade: Grade) -> AuthorityRule:
    rule = db.session.scalar(select(AuthorityRule).where(AuthorityRule.type == comp_type,
                                                         AuthorityRule.grade_id == grade.id))
    # No rule for this pair: nobody below admin may approve, nothing is self-serve.
    return rule or AuthorityRule(type=comp_type, grade=grade)


_GRADE_RULES = select(AuthorityRule).where(AuthorityRule.grade_id == bindparam("grade_id"))


def grade_rules(grade: Grade) -> dict[CompType, AuthorityRule]:
    """rule_for every type of `grade`, in one query."""
    found = {r.type: r for r in db.session.scalars(_GRADE_RULES, {"grade_id": grade.id})}
    return {t: found.get(t) or AuthorityRule(type=t, grade=grade) for t in CompType}


def effective_limit(rule: AuthorityRule, role: Role) -> int | None:
    """The most `role` may approve alone: its own limit or any junior role's, whichever is higher."""
    limits = [rule.limit_for(r) for r in APPROVER_ROLES if role.at_least(r)]
    limits = [x for x in limits if x is not None]
    return max(limits) if limits else None


def may_approve(user: User, rule: AuthorityRule, amount: int) -> bool:
    if not user.active:
        return False
    if user.role == Role.admin:
        return True
    limit = effective_limit(rule, user.role)
    return limit is not None and amount <= limit


def required_role(rule: AuthorityRule, amount: int) -> Role:
    for role in APPROVER_ROLES:
        limit = effective_limit(rule, role)
        if limit is not None and amount <= limit:
            return role
    return Role.admin


def higher(a: Role, b: Role) -> Role:
    return a if a.rank >= b.rank else b


def deciding_role(comp: Compensation, rule: AuthorityRule | None = None) -> Role:
    """The least role that may decide `comp` now: what the policy and the incident's grade
    ask today, but never less than what was asked when it was proposed. Lowering the grade
    or the policy for a moment must not let a junior role decide a senior's proposal."""
    rule = rule if rule is not None else rule_for(comp.type, comp.incident.grade)
    return higher(comp.required_role, required_role(rule, comp.amount))


def may_decide(user: User, comp: Compensation, rule: AuthorityRule | None = None) -> bool:
    return user.active and user.role.at_least(deciding_role(comp, rule))


def own_limits(user: User, grade: Grade) -> dict[CompType, tuple[int | None, int | None]]:
    """Per type: (what `user` may approve alone, the self-serve limit)."""
    return role_limits(user.role, grade)


def role_limits(role: Role, grade: Grade, rules: dict[CompType, AuthorityRule] | None = None,
                ) -> dict[CompType, tuple[int | None, int | None]]:
    """`rules`: grade_rules(grade), when the caller has them already."""
    rules = rules if rules is not None else grade_rules(grade)
    return {comp_type: (None if role == Role.viewer else effective_limit(rule, role), rule.self_serve)
            for comp_type, rule in rules.items()}


def describe(comp: Compensation) -> str:
    return f"#{comp.id} {comp.type.value} {format_money(comp.amount, comp.currency)}"


def _event(comp: Compensation, actor: User | None, kind: EventKind, body: str = "",
           at: datetime | None = None, **extra) -> None:
    record_event(comp.incident, actor, kind, body, at=at, data={
        "compensation_id": comp.id, "type": comp.type.value, "amount": comp.amount,
        "currency": comp.currency, **extra})


def _check_amount(amount: int) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= AMOUNT_MAX:
        raise ValidationFailed(_("Some fields need attention."),
                               {"amount": _("Give a positive amount in minor units.")})
    return amount


def _check_text(field: str, value: str, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed(_("Some fields need attention."), {field: _("This field is required.")})
    if len(value) > 5000 or bad_text(value):
        raise ValidationFailed(_("Some fields need attention."),
                               {field: _("At most %(n)s ordinary characters.", n=5000)})
    return value


def can_propose(actor: User, incident: Incident) -> bool:
    """Whether `actor` may propose compensation on `incident` now (propose() enforces it)."""
    return actor.can(Role.agent) and incident.status != Status.closed


def propose(actor: User, incident: Incident, *, comp_type: CompType, amount: int,
            currency: str | None = None, customer_id: int | None = None, note: str = "",
            approve: bool = True, now: datetime | None = None) -> Compensation:
    """Record a proposal; approve it at once when policy (self-serve) or the proposer's own
    limit covers it and `approve` is set, else leave it waiting for the required role."""
    require_role(actor, Role.agent)
    amount = _check_amount(amount)
    policy = policy_currency()
    currency = (currency or policy).strip().upper()
    if not is_currency(currency):
        raise ValidationFailed(_("Unknown currency."),
                               {"currency": _("Use an ISO-4217 code such as KRW or USD.")})
    if currency != policy:
        raise ValidationFailed(_("Currency mismatch."), {"currency": _(
            "The authority policy is in %(policy)s; propose in %(policy)s so limits apply.",
            policy=policy)})
    if customer_id is not None and customer_id not in {c.id for c in incident.customers}:
        raise ValidationFailed(_("Unknown customer."), {"customer_id": _(
            "This customer is not recorded on incident %(id)s.", id=incident.id)})
    if incident.status == Status.closed:
        raise Conflict(_("The incident is closed; reopen it before proposing compensation."))
    now = now or utcnow()
    rule = rule_for(comp_type, incident.grade)
    comp = Compensation(incident=incident, customer_id=customer_id, type=comp_type, amount=amount,
                        currency=currency, note=_check_text("note", note),
                        status=CompStatus.proposed, required_role=required_role(rule, amount),
                        proposed_by=actor, proposed_at=now)
    db.session.add(comp)
    db.session.flush()
    _event(comp, actor, EventKind.compensation_proposed, comp.note, at=now)
    if rule.self_serve is not None and amount <= rule.self_serve:
        _mark_approved(comp, None, "policy", now)
    elif approve and may_approve(actor, rule, amount):
        _mark_approved(comp, actor, "role", now)
    db.session.flush()
    return comp


def _mark_approved(comp: Compensation, actor: User | None, via: str, now: datetime) -> None:
    comp.status, comp.approved_by, comp.approved_via, comp.approved_at = (
        CompStatus.approved, actor, via, now)
    _event(comp, actor, EventKind.compensation_approved, at=now, via=via)


def _expect(comp: Compensation, *allowed: CompStatus) -> None:
    if comp.status not in allowed:
        raise Conflict(_("Compensation %(what)s is %(status)s; it cannot be changed that way.",
                         what=describe(comp), status=comp.status.value))


def _refuse_above_limit(actor: User, comp: Compensation) -> None:
    needed = deciding_role(comp)
    if not may_decide(actor, comp):
        raise AuthorityExceeded(
            _("%(amount)s is above what your role may approve for %(type)s on a %(grade)s "
              "incident; a %(role)s must decide.", amount=format_money(comp.amount, comp.currency),
              type=comp.type.value, grade=comp.incident.grade.name, role=needed.value),
            required_role=needed.value)


def approve(actor: User, comp: Compensation, now: datetime | None = None) -> Compensation:
    require_role(actor, Role.agent)
    _expect(comp, CompStatus.proposed)
    _refuse_above_limit(actor, comp)
    _mark_approved(comp, actor, "role", now or utcnow())
    db.session.flush()
    return comp


def reject(actor: User, comp: Compensation, reason: str, now: datetime | None = None) -> Compensation:
    require_role(actor, Role.agent)
    _expect(comp, CompStatus.proposed)
    _refuse_above_limit(actor, comp)  # deciding either way takes the same authority
    comp.reason = _check_text("reason", reason, required=True)
    comp.status, comp.decided_by, comp.rejected_at = CompStatus.rejected, actor, now or utcnow()
    _event(comp, actor, EventKind.compensation_rejected, comp.reason, at=comp.rejected_at)
    db.session.flush()
    return comp


def pay(actor: User, comp: Compensation, note: str = "", now: datetime | None = None) -> Compensation:
    require_role(actor, Role.agent)
    _expect(comp, CompStatus.approved)
    comp.status, comp.paid_by, comp.paid_at = CompStatus.paid, actor, now or utcnow()
    _event(comp, actor, EventKind.compensation_paid, _check_text("note", note), at=comp.paid_at)
    db.session.flush()
    return comp


def cancel(actor: User, comp: Compensation, reason: str = "",
           now: datetime | None = None) -> Compensation:
    require_role(actor, Role.agent)
    _expect(comp, CompStatus.proposed, CompStatus.approved)
    comp.reason = _check_text("reason", reason)
    comp.status, comp.cancelled_by, comp.cancelled_at = (CompStatus.cancelled, actor,
                                                         now or utcnow())
    _event(comp, actor, EventKind.compensation_cancelled, comp.reason, at=comp.cancelled_at)
    db.session.flush()
    return comp


# Built once (the incident page asks for it): SQLAlchemy then keeps its cache key.
_FOR_INCIDENT = (select(Compensation).where(Compensation.incident_id == bindparam("incident_id"))
                 .order_by(Compensation.proposed_at, Compensation.id))


def for_incident(incident: Incident) -> list[Compensation]:
    return list(db.session.scalars(_FOR_INCIDENT, {"incident_id": incident.id}))


@close_check
def _unsettled(incident: Incident) -> list[str]:
    pending = db.session.scalars(select(Compensation).where(
        Compensation.incident_id == incident.id, Compensation.status.in_(UNSETTLED))
        .order_by(Compensation.id))
    problems = []
    for comp in pending:
        if comp.status == CompStatus.proposed:
            problems.append(_("Compensation %(what)s is still waiting for %(role)s approval.",
                              what=describe(comp), role=role_label(comp.required_role)))
        else:
            problems.append(_("Compensation %(what)s is approved but not yet paid.",
                              what=describe(comp)))
    return problems


def queue(user: User) -> list[Compensation]:
    """Proposals waiting for exactly this user's role, oldest first."""
    if user.role == Role.viewer:
        return []
    return list(db.session.scalars(
        select(Compensation).where(Compensation.status == CompStatus.proposed,
                                   Compensation.required_role == user.role)
        .order_by(Compensation.proposed_at, Compensation.id)))


# --- the policy ---------------------------------------------------------------------------------

@dataclass
class RuleData:
    type: CompType
    grade: Grade
    self_serve: int | None
    agent: int | None
    lead: int | None
    manager: int | None


def policy_rules() -> list[AuthorityRule]:
    return list(db.session.scalars(select(AuthorityRule).join(AuthorityRule.grade)
                                   .order_by(AuthorityRule.type, Grade.rank)))


def set_policy(actor: User, currency: str, rules: list[RuleData]) -> list[AuthorityRule]:
    require_role(actor, Role.admin)
    currency = currency.strip().upper()
    if not is_currency(currency):
        raise ValidationFailed(_("Unknown currency."),
                               {"currency": _("Use an ISO-4217 code such as KRW or USD.")})
    if currency != policy_currency():
        other = db.session.scalar(select(Compensation.id).where(
            Compensation.status.in_(UNSETTLED), Compensation.currency != currency).limit(1))
        if other is not None:
            raise Conflict(_("Settle or cancel the open compensations in %(old)s before "
                             "changing the policy currency.", old=policy_currency()))
    problems: dict[str, str] = {}
    seen = set()
    for i, data in enumerate(rules):
        key = (data.type, data.grade.id)
        if key in seen:
            problems[f"rules.{i}"] = _("Duplicate rule for %(type)s / %(grade)s.",
                                       type=data.type.value, grade=data.grade.name)
        seen.add(key)
        for field in ("self_serve", "agent", "lead", "manager"):
            value = getattr(data, field)
            if value is not None and not 0 <= value <= AMOUNT_MAX:
                problems[f"rules.{i}.{field}"] = _("Give an amount from 0 upward, or null.")
    if problems:
        raise ValidationFailed(_("Some rules need attention."), problems)
    put_setting(CURRENCY_KEY, currency)
    existing = {(r.type, r.grade_id): r for r in db.session.scalars(select(AuthorityRule))}
    for data in rules:
        rule = existing.get((data.type, data.grade.id))
        if rule is None:
            rule = AuthorityRule(type=data.type, grade=data.grade)
            db.session.add(rule)
        rule.self_serve, rule.agent, rule.lead, rule.manager = (
            data.self_serve, data.agent, data.lead, data.manager)
    db.session.flush()
    # A waiting proposal moves up to a more senior queue if the new policy asks for more;
    # it never moves down: the bar set when it was proposed stays.
    _raise_waiting(select(Compensation).where(Compensation.status == CompStatus.proposed))
    return policy_rules()


def _raise_waiting(query) -> None:
    for comp in db.session.scalars(query):
        comp.required_role = deciding_role(comp)
    db.session.flush()


def _on_incident_updated(actor, incident: Incident, before: dict, extra: dict, now) -> None:
    """A more urgent grade raises the bar for proposals waiting on the incident (a lower
    one leaves it where it was)."""
    if before["grade"] != incident.grade.name:
        _raise_waiting(select(Compensation).where(Compensation.incident_id == incident.id,
                                                  Compensation.status == CompStatus.proposed))


incident_updated_hooks.append(_on_incident_updated)


# --- the delegation report ---------------------------------------------------------------------

def delegation_rows(start: datetime, end: datetime) -> list[Row]:
    query = (select(Compensation, Incident.category_id).join(Incident)
             .where(Compensation.proposed_at >= start, Compensation.proposed_at < end)
             .order_by(Compensation.proposed_at))
    slugs = {c.id: c.slug for c in db.session.scalars(select(Category))}
    return [Row(category=slugs.get(category_id, ""), type=comp.type.value, amount=comp.amount,
                required_role=comp.required_role.value, proposed_at=comp.proposed_at,
                approved_at=comp.approved_at, approved_via=comp.approved_via,
                rejected_at=comp.rejected_at)
            for comp, category_id in db.session.execute(query)]


def delegation_report(start: datetime, end: datetime) -> list[report.Group]:
    small: dict[str, int | None] = {}
    for rule in db.session.scalars(select(AuthorityRule)):
        if rule.lead is not None:
            small[rule.type.value] = max(small.get(rule.type.value) or 0, rule.lead)
    return report.build(delegation_rows(start, end), small)
