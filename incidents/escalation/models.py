"""Shifts, overrides, notifications, escalation steps and abuse cases."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models import Role, User, enum_column
from app.timeutil import utcnow
from incidents.models import Incident

DUTY_ROLES = (Role.lead, Role.manager)


class Shift(db.Model):
    """A weekly pattern: on these weekdays, from start to end, in this time zone."""

    __tablename__ = "shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[Role] = enum_column(Role)
    days: Mapped[list] = mapped_column(JSON)  # ["mon", "tue", ...]
    start: Mapped[str] = mapped_column(String(5))  # "HH:MM"
    end: Mapped[str] = mapped_column(String(5))  # "HH:MM", "24:00" allowed; before start = overnight
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class Override(db.Model):
    """A one-off swap: this person holds the role from start to end instead of the rota."""

    __tablename__ = "shift_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[Role] = enum_column(Role)
    start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class Notification(db.Model):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    reason: Mapped[str] = mapped_column(String(30))  # opened, grade_raised, escalated, abusive
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    emailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    email_error: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User] = relationship()
    incident: Mapped[Incident] = relationship(lazy="joined", innerjoin=True)


class EscalationStep(db.Model):
    """An incident not shared in time was escalated to `role`; once per level."""

    __tablename__ = "escalation_steps"
    __table_args__ = (UniqueConstraint("incident_id", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    role: Mapped[Role] = enum_column(Role)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AbuseKind(enum.Enum):
    threat = "threat"
    extortion = "extortion"
    harassment = "harassment"
    insult = "insult"
    other = "other"


class AbuseOutcome(enum.Enum):
    concede = "concede"
    hold = "hold"
    part_ways = "part_ways"


class AbuseCase(db.Model):
    """What crossed the line, who was taken off the case, and what the lead decided."""

    __tablename__ = "abuse_cases"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    kind: Mapped[AbuseKind] = enum_column(AbuseKind)
    flagged_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    flagged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    previous_owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[AbuseOutcome | None] = enum_column(AbuseOutcome, nullable=True)
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    compensation_id: Mapped[int | None] = mapped_column(ForeignKey("compensations.id"))
    outcome_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    incident: Mapped[Incident] = relationship()
    previous_owner: Mapped[User] = relationship(foreign_keys=[previous_owner_id])
    lead: Mapped[User] = relationship(foreign_keys=[lead_id])
    outcome_by: Mapped[User | None] = relationship(foreign_keys=[outcome_by_id])
