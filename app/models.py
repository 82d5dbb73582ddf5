"""Shared models: people, their API tokens, grades and categories."""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.timeutil import utcnow


class Role(enum.Enum):
    viewer = "viewer"
    agent = "agent"
    lead = "lead"
    manager = "manager"
    admin = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


_ROLE_RANK = {Role.viewer: 0, Role.agent: 1, Role.lead: 2, Role.manager: 3, Role.admin: 4}


def enum_column(enum_cls: type[enum.Enum], *, checked: bool = True, **kwargs):
    """Enums stored as their value strings, checked by a named constraint.

    `checked=False` for enums that later features extend (timeline event kinds):
    the ORM still refuses unknown values, and adding one needs no table rebuild,
    which on SQLite would drop the timeline's append-only triggers.
    """
    return mapped_column(
        Enum(enum_cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e],
             validate_strings=True, create_constraint=checked, name=enum_cls.__name__.lower()),
        **kwargs,
    )


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = enum_column(Role)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Seoul")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sessions of deactivated users.
        return self.active

    def can(self, role: Role) -> bool:
        return self.active and self.role.at_least(role)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role.value}>"


class ApiToken(db.Model):
    """Only a SHA-256 of the token is kept; the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()

    @staticmethod
    def hash(token: str) -> str:
        # The token carries 256 random bits, so a fast hash is enough (no salt needed).
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User) -> tuple[ApiToken, str]:
        token = "ib_" + secrets.token_urlsafe(32)
        return cls(user=user, token_hash=cls.hash(token), prefix=token[:10]), token


def localized(locale: str, text: str, text_ko: str) -> str:
    """Admin-written text in the reader's language: the Korean when there is one."""
    return text_ko if locale == "ko" and text_ko else text


class Grade(db.Model):
    __tablename__ = "grades"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    rank: Mapped[int] = mapped_column(Integer)  # 1 is the most urgent
    colour: Mapped[str] = mapped_column(String(7))
    description: Mapped[str] = mapped_column(Text, default="")
    description_ko: Mapped[str] = mapped_column(Text, default="")
    target_share_minutes: Mapped[int | None] = mapped_column(Integer)
    target_resolve_minutes: Mapped[int | None] = mapped_column(Integer)
    postmortem_required: Mapped[bool] = mapped_column(Boolean, default=False)
    notified_role: Mapped[Role] = enum_column(Role)

    def describe(self, locale: str) -> str:
        return localized(locale, self.description, self.description_ko)


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    name_ko: Mapped[str] = mapped_column(String(80), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def label(self, locale: str) -> str:
        return localized(locale, self.name, self.name_ko)


class Setting(db.Model):
    """Small app-wide settings an admin changes at run time (e.g. the policy currency)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


def get_setting(key: str, default: str) -> str:
    row = db.session.get(Setting, key)
    return row.value if row is not None else default


def put_setting(key: str, value: str) -> None:
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value


class IndexChange(db.Model):
    """Outbox of records whose search entry must be refreshed.

    Written in the same transaction as the change itself, so the database stays
    the source of truth: if the process dies before the index is written, the
    row is still here and the next writer applies it.
    """

    __tablename__ = "index_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_type: Mapped[str] = mapped_column(String(20))
    doc_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class UserSession(db.Model):
    """A signed-in browser. Its cookie holds a random token, of which only a SHA-256 is kept
    here; ending the row ends the session wherever the cookie was copied to."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(45), default="")

    hash = staticmethod(ApiToken.hash)  # 256 random bits again: a fast hash is enough

    @classmethod
    def start(cls, user_id: int, *, user_agent: str = "", address: str = "") -> tuple[UserSession, str]:
        token = secrets.token_urlsafe(32)
        return cls(user_id=user_id, token_hash=cls.hash(token), user_agent=user_agent[:200],
                   address=address[:45]), token


class LoginFailure(db.Model):
    """One failed sign-in under one key (an account's or an address's, hashed): the sign-in
    limit counts these across every worker. Rows older than the limit's window are pruned."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_failed_at", "key", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
