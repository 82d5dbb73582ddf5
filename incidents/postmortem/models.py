"""Postmortem, action items, and which incidents a playbook was made from."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models import User, enum_column
from app.timeutil import utcnow
from incidents.models import Incident
from playbooks.models import Playbook


class PostmortemStatus(enum.Enum):
    draft = "draft"
    in_review = "in_review"
    published = "published"


class Postmortem(db.Model):
    __tablename__ = "postmortems"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), unique=True)
    language: Mapped[str] = mapped_column(String(2))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[PostmortemStatus] = enum_column(PostmortemStatus, default=PostmortemStatus.draft)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What readers, search and playbooks see: the text as last published. `body` is the
    # working text; edits to a published postmortem wait there until a lead publishes them.
    published_body: Mapped[str | None] = mapped_column(Text)
    published_number: Mapped[int | None] = mapped_column(Integer)  # its PostmortemVersion
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic lock, not a text version

    incident: Mapped[Incident] = relationship()
    updated_by: Mapped[User] = relationship(foreign_keys=[updated_by_id])
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def unpublished_changes(self) -> bool:
        return self.status == PostmortemStatus.published and self.body != self.published_body


class PostmortemVersion(db.Model):
    """Every saved text of a postmortem, kept: published work is never rewritten in place."""

    __tablename__ = "postmortem_versions"
    __table_args__ = (UniqueConstraint("postmortem_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    postmortem_id: Mapped[int] = mapped_column(ForeignKey("postmortems.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    created_by: Mapped[User] = relationship(lazy="joined")


class ActionKind(enum.Enum):
    prevent = "prevent"
    detect = "detect"
    mitigate = "mitigate"
    process = "process"


class ActionStatus(enum.Enum):
    open = "open"
    done = "done"


class ActionItem(db.Model):
    __tablename__ = "action_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    due_date: Mapped[date | None] = mapped_column(Date)
    kind: Mapped[ActionKind] = enum_column(ActionKind)
    status: Mapped[ActionStatus] = enum_column(ActionStatus, default=ActionStatus.open)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    incident: Mapped[Incident] = relationship()
    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="joined")
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])


class PlaybookSource(db.Model):
    """An incident a playbook was made from (a recurrence adds another)."""

    __tablename__ = "playbook_sources"

    playbook_id: Mapped[int] = mapped_column(ForeignKey("playbooks.id"), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    playbook_version: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    playbook: Mapped[Playbook] = relationship()
    incident: Mapped[Incident] = relationship()
