"""Incident, affected customer and the append-only timeline."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models import Category, Grade, User, enum_column
from app.timeutil import utcnow


class Status(enum.Enum):
    detected = "detected"
    shared = "shared"
    mitigated = "mitigated"
    resolved = "resolved"
    closed = "closed"

    @property
    def step(self) -> int:
        return list(Status).index(self)


OPEN_STATUSES = (Status.detected, Status.shared, Status.mitigated, Status.resolved)


class Channel(enum.Enum):
    chat = "chat"
    phone = "phone"
    email = "email"
    social = "social"
    internal = "internal"
    monitoring = "monitoring"


class EventKind(enum.Enum):
    created = "created"
    status_changed = "status_changed"
    grade_changed = "grade_changed"
    owner_changed = "owner_changed"
    edited = "edited"
    customer_added = "customer_added"
    note = "note"
    action = "action"
    compensation_proposed = "compensation_proposed"
    compensation_approved = "compensation_approved"
    compensation_rejected = "compensation_rejected"
    compensation_paid = "compensation_paid"
    compensation_cancelled = "compensation_cancelled"
    apology_drafted = "apology_drafted"
    apology_edited = "apology_edited"
    apology_approved = "apology_approved"
    apology_sent = "apology_sent"
    postmortem_saved = "postmortem_saved"
    postmortem_status = "postmortem_status"
    action_item_added = "action_item_added"
    action_item_done = "action_item_done"
    playbook_made = "playbook_made"
    notification = "notification"
    escalation = "escalation"
    abuse_flagged = "abuse_flagged"
    abuse_outcome = "abuse_outcome"


incident_responders = Table(
    "incident_responders",
    db.metadata,
    Column("incident_id", ForeignKey("incidents.id"), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True),
)


class Incident(db.Model):
    __tablename__ = "incidents"
    __table_args__ = (
        # The list's default order: most urgent grade first, then the oldest.
        Index("ix_incidents_urgency", "grade_rank", "detected_at", "id"),
        Index("ix_incidents_status_urgency", "status", "grade_rank", "detected_at"),
        # Dashboard periods select incidents by detection time.
        Index("ix_incidents_detected_at", "detected_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    grade_id: Mapped[int] = mapped_column(ForeignKey("grades.id"), index=True)
    # Copy of grade.rank so the urgency order can use an index; kept in step by
    # incidents.services whenever a grade's rank or an incident's grade changes.
    grade_rank: Mapped[int] = mapped_column(Integer)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    channel: Mapped[Channel | None] = enum_column(Channel, nullable=True)
    status: Mapped[Status] = enum_column(Status, default=Status.detected)
    detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    affected_count: Mapped[int | None] = mapped_column(Integer)
    impact: Mapped[str] = mapped_column(Text, default="")
    cause: Mapped[str] = mapped_column(Text, default="")
    resolution: Mapped[str] = mapped_column(Text, default="")
    # What customers are told, in their words: apology drafts take these, never the title,
    # the description, the internal impact line, cause or resolution above (those are for
    # staff). An unknown cause is told as unknown, with the date by which it will be told.
    public_summary: Mapped[str] = mapped_column(Text, default="", server_default="")
    public_harm: Mapped[str] = mapped_column(Text, default="", server_default="")
    public_cause: Mapped[str] = mapped_column(Text, default="", server_default="")
    public_cause_due: Mapped[date | None] = mapped_column(Date)
    public_fix: Mapped[str] = mapped_column(Text, default="", server_default="")
    public_change: Mapped[str] = mapped_column(Text, default="", server_default="")
    abusive_customer: Mapped[bool] = mapped_column(Boolean, default=False)
    one_stop: Mapped[bool] = mapped_column(Boolean, default=False)
    shared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    mitigated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Optimistic lock: an edit made from a stale form is refused, not silently merged.
    version: Mapped[int] = mapped_column(Integer, default=1)

    grade: Mapped[Grade] = relationship(lazy="joined", innerjoin=True)
    category: Mapped[Category | None] = relationship(lazy="joined")
    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="joined", innerjoin=True)
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])
    responders: Mapped[list[User]] = relationship(secondary=incident_responders,
                                                  order_by=User.name)
    customers: Mapped[list[AffectedCustomer]] = relationship(
        back_populates="incident", order_by="AffectedCustomer.id")

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_open(self) -> bool:
        return self.status != Status.closed


class AffectedCustomer(db.Model):
    """Personal data: shown to signed-in staff, never copied to playbooks or search."""

    __tablename__ = "affected_customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    reference: Mapped[str] = mapped_column(String(200), default="")
    impact: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="customers")


class TimelineEvent(db.Model):
    """Append-only: corrections are new events. Guarded here and by database triggers."""

    __tablename__ = "timeline_events"
    __table_args__ = (Index("ix_timeline_incident_time", "incident_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    kind: Mapped[EventKind] = enum_column(EventKind, checked=False)
    body: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="joined")


class AppendOnlyError(RuntimeError):
    """Raised on any attempt to edit or delete a timeline event."""


@event.listens_for(TimelineEvent, "before_update")
def _refuse_update(mapper, connection, target):
    raise AppendOnlyError("timeline events are append-only; add a correcting event instead")


@event.listens_for(TimelineEvent, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise AppendOnlyError("timeline events are append-only; nothing deletes them")
