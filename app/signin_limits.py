"""Failed sign-ins, counted per account and per address where every worker and host sees
them: the database by default, Redis (or any `limits` storage) when RATELIMIT_STORAGE_URI
names one. Only failures count, so a team behind one office address never locks itself out.
"""

from __future__ import annotations

import hashlib
import math
import time
from datetime import timedelta

from flask import Flask
from limits import RateLimitItem, parse
from sqlalchemy import delete, select, text

from app.extensions import db
from app.models import LoginFailure
from app.timeutil import as_utc, utcnow


class DatabaseFailures:
    """Failed sign-ins per account and per address within LOGIN_RATE_LIMIT's window, as rows
    every worker reads (the default). On PostgreSQL the attempts on one account wait for one
    another until each has been counted, so guesses sent in parallel are all counted; SQLite
    lets one writing request at a time through anyway (app.database)."""

    PRUNE_BATCH = 200

    def __init__(self, limit: RateLimitItem):
        self.limit = limit
        self.window = timedelta(seconds=limit.get_expiry())

    def begin(self, account: str, address: str) -> int:
        """Seconds to wait before trying again, or 0: the attempt may go ahead."""
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                               {"key": account})
        now = utcnow()
        since = now - self.window
        self._prune(since)
        wait = 0
        for key in (account, address):
            latest = db.session.scalars(
                select(LoginFailure.failed_at)
                .where(LoginFailure.key == key, LoginFailure.failed_at > since)
                .order_by(LoginFailure.failed_at.desc()).limit(self.limit.amount)).all()
            if len(latest) >= self.limit.amount:
                # Open again once the oldest of the last `amount` failures leaves the window.
                freed = as_utc(latest[-1]) + self.window - now
                wait = max(wait, max(1, math.ceil(freed.total_seconds())))
        return wait

    def failed(self, account: str, address: str) -> None:
        now = utcnow()
        db.session.add_all([LoginFailure(key=account, failed_at=now),
                            LoginFailure(key=address, failed_at=now)])
        db.session.flush()

    def succeeded(self, account: str) -> None:
        db.session.execute(delete(LoginFailure).where(LoginFailure.key == account))

    def _prune(self, since) -> None:
        # A batch of rows past the window, skipping those another request is pruning (on
        # PostgreSQL): every attempt prunes, so the table holds about one window's failures.
        old = (select(LoginFailure.id).where(LoginFailure.failed_at <= since)
               .limit(self.PRUNE_BATCH).with_for_update(skip_locked=True))
        db.session.execute(delete(LoginFailure).where(LoginFailure.id.in_(old.scalar_subquery())),
                           execution_options={"synchronize_session": False})


class SharedStorageFailures:
    """The same count in a `limits` storage (Redis) named by RATELIMIT_STORAGE_URI, as a moving
    window. `begin` takes the account's place at once (Redis does it atomically) and a success
    gives it back, so guesses sent in parallel are all counted here too."""

    def __init__(self, limit: RateLimitItem, uri: str, prefix: str):
        from limits.storage import storage_from_string
        from limits.strategies import MovingWindowRateLimiter

        self.limit, self.prefix = limit, prefix
        self.limiter = MovingWindowRateLimiter(storage_from_string(uri))

    def begin(self, account: str, address: str) -> int:
        if not self.limiter.test(self.limit, self.prefix, address):
            return self._wait(address)
        if not self.limiter.hit(self.limit, self.prefix, account):
            return self._wait(account)
        return 0

    def failed(self, account: str, address: str) -> None:
        self.limiter.hit(self.limit, self.prefix, address)  # the account's was taken in begin

    def succeeded(self, account: str) -> None:
        self.limiter.clear(self.limit, self.prefix, account)

    def _wait(self, key: str) -> int:
        reset = self.limiter.get_window_stats(self.limit, self.prefix, key).reset_time
        return max(1, math.ceil(reset - time.time()))


def failed_sign_ins(app: Flask) -> DatabaseFailures | SharedStorageFailures:
    """The app's count of failed sign-ins: in Redis when RATELIMIT_STORAGE_URI names one, else
    in the database (`memory://` would count in each worker alone)."""
    state = app.extensions.setdefault("incidentbook", {})
    if "failed_sign_ins" not in state:
        limit = parse(app.config["LOGIN_RATE_LIMIT"])
        uri = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
        state["failed_sign_ins"] = DatabaseFailures(limit) if uri.startswith("memory://") else \
            SharedStorageFailures(limit, uri, app.config["RATELIMIT_KEY_PREFIX"])
    return state["failed_sign_ins"]


def failure_keys(email: str, address: str) -> tuple[str, str]:
    """The account's and the address's keys; hashed, so the count stores no e-mail or IP."""
    return (hashlib.sha256(f"account:{email.strip().lower()}".encode()).hexdigest(),
            hashlib.sha256(f"address:{address}".encode()).hexdigest())
