"""Apology letters and their versions; every edit is kept."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models import Role, User, enum_column
from app.timeutil import utcnow
from incidents.models import AffectedCustomer, Incident


class Audience(enum.Enum):
    customer = "customer"
    public = "public"


class LetterStatus(enum.Enum):
    draft = "draft"
    approved = "approved"
    sent = "sent"


class ApologyLetter(db.Model):
    __tablename__ = "apology_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    audience: Mapped[Audience] = enum_column(Audience)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("affected_customers.id"))
    language: Mapped[str] = mapped_column(String(2))
    status: Mapped[LetterStatus] = enum_column(LetterStatus, default=LetterStatus.draft)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_version: Mapped[int | None] = mapped_column(Integer)
    override_reason: Mapped[str] = mapped_column(Text, default="")
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_channel: Mapped[str] = mapped_column(String(40), default="")
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    # The bar for approval as it stood when drafted, raised (never lowered) while the letter
    # waits: see services.approver_role and needs_senior_signer.
    required_role: Mapped[Role | None] = enum_column(Role)
    senior_signer_required: Mapped[bool] = mapped_column(Boolean, default=False)

    incident: Mapped[Incident] = relationship()
    customer: Mapped[AffectedCustomer | None] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    sent_by: Mapped[User | None] = relationship(foreign_keys=[sent_by_id])
    versions: Mapped[list[ApologyVersion]] = relationship(
        back_populates="letter", order_by="ApologyVersion.number")

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def current(self) -> ApologyVersion:
        return self.versions[-1]


class ApologyVersion(db.Model):
    """One saved text of a letter, its signatories (as they were) and its findings."""

    __tablename__ = "apology_versions"
    __table_args__ = (UniqueConstraint("letter_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("apology_letters.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    # [{user_id, name, title, email}] copied at save time: a letter reads as it was signed.
    signatories: Mapped[list] = mapped_column(JSON, default=list)
    findings: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    letter: Mapped[ApologyLetter] = relationship(back_populates="versions")
    created_by: Mapped[User] = relationship()
