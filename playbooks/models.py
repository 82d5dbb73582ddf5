"""Playbooks: how a kind of incident was handled, for the next team; versioned."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models import Category, Grade, User, enum_column
from app.timeutil import utcnow

# The text fields of a playbook, in the order a reader needs them.
TEXT_FIELDS = ("summary", "symptoms", "steps", "authority", "compensation", "message",
               "escalation", "prevention")


class PlaybookStatus(enum.Enum):
    draft = "draft"
    published = "published"


class Playbook(db.Model):
    __tablename__ = "playbooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    symptoms: Mapped[str] = mapped_column(Text, default="")  # how you recognise it
    steps: Mapped[str] = mapped_column(Text, default="")  # first steps
    authority: Mapped[str] = mapped_column(Text, default="")  # what the front line may do alone
    compensation: Mapped[str] = mapped_column(Text, default="")  # compensation given before
    message: Mapped[str] = mapped_column(Text, default="")  # customer message template
    escalation: Mapped[str] = mapped_column(Text, default="")
    prevention: Mapped[str] = mapped_column(Text, default="")  # prevention status
    tags: Mapped[list] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(2), default="ko")
    grade_id: Mapped[int | None] = mapped_column(ForeignKey("grades.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    status: Mapped[PlaybookStatus] = enum_column(PlaybookStatus, default=PlaybookStatus.draft)
    recurrence_count: Mapped[int] = mapped_column(Integer, default=1)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    grade: Mapped[Grade | None] = relationship(lazy="joined")
    category: Mapped[Category | None] = relationship(lazy="joined")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])
    versions: Mapped[list[PlaybookVersion]] = relationship(
        back_populates="playbook", order_by="PlaybookVersion.number")

    def snapshot(self) -> dict:
        data = {f: getattr(self, f) for f in ("title", *TEXT_FIELDS, "language")}
        data["tags"] = list(self.tags or [])
        data["grade"] = self.grade.name if self.grade else None
        data["category"] = self.category.slug if self.category else None
        return data


class PlaybookVersion(db.Model):
    __tablename__ = "playbook_versions"
    __table_args__ = (UniqueConstraint("playbook_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    playbook_id: Mapped[int] = mapped_column(ForeignKey("playbooks.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    playbook: Mapped[Playbook] = relationship(back_populates="versions")
    created_by: Mapped[User | None] = relationship()


class Suggestion(db.Model):
    """A playbook suggested for an incident, and whether it helped (used or dismissed)."""

    __tablename__ = "suggestions"
    __table_args__ = (UniqueConstraint("incident_id", "playbook_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # A table-level reference only: the playbooks package never imports incidents.
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    playbook_id: Mapped[int] = mapped_column(ForeignKey("playbooks.id"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(db.Float)
    shown_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    action: Mapped[str | None] = mapped_column(String(10))  # "used" or "dismissed"
    action_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    playbook: Mapped[Playbook] = relationship(lazy="joined")
