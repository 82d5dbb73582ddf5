"""Compensation records and the authority policy that decides who may approve them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models import Grade, Role, User, enum_column
from app.timeutil import utcnow
from incidents.models import AffectedCustomer, Incident


class CompType(enum.Enum):
    refund = "refund"
    replacement = "replacement"
    coupon = "coupon"
    credit = "credit"
    service_extension = "service_extension"
    cash = "cash"


class CompStatus(enum.Enum):
    proposed = "proposed"
    approved = "approved"
    rejected = "rejected"
    paid = "paid"
    cancelled = "cancelled"


UNSETTLED = (CompStatus.proposed, CompStatus.approved)

# The roles whose limits the policy sets, least senior first. An admin, the system
# owner, approves what exceeds every limit so that no claim is left without an owner.
APPROVER_ROLES = (Role.agent, Role.lead, Role.manager)


class Compensation(db.Model):
    __tablename__ = "compensations"
    __table_args__ = (Index("ix_compensations_queue", "status", "required_role", "proposed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("affected_customers.id"))
    type: Mapped[CompType] = enum_column(CompType)
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units of `currency`
    currency: Mapped[str] = mapped_column(String(3))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[CompStatus] = enum_column(CompStatus, default=CompStatus.proposed)
    # The least role whose limit covers the amount, under the policy in force.
    required_role: Mapped[Role] = enum_column(Role)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_via: Mapped[str | None] = mapped_column(String(10))  # "policy" or "role"
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # rejected by
    rejected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, default="")
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)

    incident: Mapped[Incident] = relationship()
    customer: Mapped[AffectedCustomer | None] = relationship()
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id], lazy="joined")
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    paid_by: Mapped[User | None] = relationship(foreign_keys=[paid_by_id])
    cancelled_by: Mapped[User | None] = relationship(foreign_keys=[cancelled_by_id])

    # Concurrent approve/pay of the same record: the second writer gets a conflict.
    __mapper_args__ = {"version_id_col": version}


class AuthorityRule(db.Model):
    """For one compensation type and grade: the most each role may approve alone."""

    __tablename__ = "authority_rules"
    __table_args__ = (UniqueConstraint("type", "grade_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[CompType] = enum_column(CompType)
    grade_id: Mapped[int] = mapped_column(ForeignKey("grades.id"))
    # None means "may not approve" (self_serve: no automatic approval).
    self_serve: Mapped[int | None] = mapped_column(BigInteger)
    agent: Mapped[int | None] = mapped_column(BigInteger)
    lead: Mapped[int | None] = mapped_column(BigInteger)
    manager: Mapped[int | None] = mapped_column(BigInteger)

    grade: Mapped[Grade] = relationship(lazy="joined")

    def limit_for(self, role: Role) -> int | None:
        if role == Role.admin:
            return None  # admins are not bound by limits; see may_approve
        if role in APPROVER_ROLES:
            return getattr(self, role.value)
        return None
