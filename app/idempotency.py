"""A request sent twice makes one thing, not two.

A form whose answer was lost (a dropped connection, a proxy time-out, the browser's "send
again", a back-button resubmit) arrives a second time; forms.js stops only a double click.
Each create form carries a key made when the form was shown, and an API client may send an
`Idempotency-Key` header. The first request with a key records what it made; the same
person's later request with that key and the same content leads to that instead of making a
second incident, timeline note, customer, compensation proposal, letter or action item. Forms
use it through app.forms.SentOnce.once, the API through app.api.created_once.

A key is kept for IDEMPOTENCY_KEEP_DAYS (30 by default): long enough for any resend of a form
left open over a holiday, short enough that the table stays small. After that the same key is
new again; each keyed request first forgets its sender's expired keys, so no scheduler is
needed.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from flask import current_app
from sqlalchemy import DateTime, ForeignKey, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from app.errors import DomainError
from app.extensions import db
from app.i18n import gettext as _
from app.timeutil import utcnow

HEADER = "Idempotency-Key"
FORM_FIELD = "idempotency_key"
# Printable ASCII without spaces: a UUID, or secrets.token_urlsafe() as the forms use.
_KEY = re.compile(r"[!-~]{8,64}")


class BadKey(DomainError):
    status = 400
    code = "bad_idempotency_key"


class KeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"


class Submission(db.Model):
    """What one person's request with one key made."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(64))
    # What was made: incident, event, customer, compensation, apology, action.
    kind: Mapped[str] = mapped_column(String(30))
    target_id: Mapped[int]
    fingerprint: Mapped[str] = mapped_column(String(64))  # of the request's content
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@dataclass(frozen=True)
class Outcome:
    target_id: int
    replayed: bool  # True: an earlier request with this key made it; nothing new was made


def new_key() -> str:
    return secrets.token_urlsafe(16)


def checked_key(key: str | None) -> str | None:
    """The key, or None when none was sent; a malformed one is refused (400)."""
    if key is None or key == "":
        return None
    if not _KEY.fullmatch(key):
        raise BadKey(_("The idempotency key must be 8 to 64 printable ASCII characters "
                       "without spaces."))
    return key


def fingerprint(content: object) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str,
                                     ensure_ascii=False).encode()).hexdigest()


def form_content(items: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """A posted form's fields, without the per-session token and the key itself."""
    return sorted((name, value) for name, value in items if name not in ("csrf_token", FORM_FIELD))


def once(user_id: int, key: str | None, kind: str, content: object, make: Callable[[], int],
         *, changed_content: Literal["refuse", "new"] = "refuse") -> Outcome:
    """Runs `make` (it creates the thing and returns its id) and commits, unless this user's
    `key` already made one; then nothing runs and the earlier id comes back, replayed.

    The same key with different content is a different request: the API refuses it
    (`changed_content="refuse"`, 422); a form that was edited after it was sent
    (`changed_content="new"`) makes its new thing, without a key."""
    key = checked_key(key)
    content_print = fingerprint(content)
    if key is not None:
        _forget_expired(user_id)
        earlier = _earlier(user_id, key)
        if earlier is not None:
            if _same(earlier, kind, content_print):
                return Outcome(earlier.target_id, True)
            if changed_content == "refuse":
                raise KeyReused(_("This idempotency key was already used for a different "
                                  "request. Send a new key for a new request."))
            key = None
    target_id = make()
    if key is not None:
        db.session.add(Submission(user_id=user_id, key=key, kind=kind, target_id=target_id,
                                  fingerprint=content_print))
    try:
        db.session.commit()
    except IntegrityError:
        # The same request, sent twice at once: the other one committed first. Everything this
        # one made is rolled back with it, and the other's result is the answer.
        db.session.rollback()
        earlier = _earlier(user_id, key) if key is not None else None
        if earlier is None or not _same(earlier, kind, content_print):
            raise
        return Outcome(earlier.target_id, True)
    return Outcome(target_id, False)


def _forget_expired(user_id: int) -> None:
    cutoff = utcnow() - timedelta(days=current_app.config["IDEMPOTENCY_KEEP_DAYS"])
    db.session.execute(delete(Submission).where(Submission.user_id == user_id,
                                                Submission.created_at < cutoff))


def _earlier(user_id: int, key: str) -> Submission | None:
    return db.session.scalar(select(Submission).where(Submission.user_id == user_id,
                                                      Submission.key == key))


def _same(earlier: Submission, kind: str, content_print: str) -> bool:
    return earlier.kind == kind and earlier.fingerprint == content_print
