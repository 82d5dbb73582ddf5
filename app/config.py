"""Settings read from the environment when the app is built, never at import time."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else one generated once into instance/."""
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # O_EXCL so two workers starting at once cannot write two different keys.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Environment settings, then `overrides` (tests pass theirs) on top."""
    overrides = overrides or {}
    instance = Path(instance_path)
    default_db = f"sqlite:///{instance / 'incidentbook.db'}"
    config = {
        "SECRET_KEY": overrides.get("SECRET_KEY") or _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL", default_db),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "DEFAULT_TIMEZONE": os.environ.get("INCIDENTBOOK_TIMEZONE", "Asia/Seoul"),
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        # Starts every key the sign-in limit keeps in a shared store (Redis), so several apps
        # can share one server.
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "incidentbook"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "0") == "1",
        # How many reverse proxies in front of the app to believe about scheme and address.
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        "WTF_CSRF_TIME_LIMIT": None,
        # The largest body any form or API call needs (a 100,000-character postmortem in
        # Hangul is 300 KB); anything bigger is refused (413) before it is read.
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", str(4 * 1024 * 1024))),
        "INCIDENTS_PER_PAGE": 25,
        "EVENTS_PER_PAGE": 100,
        "ACTIONS_PER_PAGE": 50,
        "INBOX_PER_PAGE": 50,
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": os.environ.get("MAIL_USE_TLS", "0") == "1",
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "incidentbook@localhost"),
        "ESCALATION_CHECK_SECONDS": int(os.environ.get("ESCALATION_CHECK_SECONDS", "60")),
        "IDEMPOTENCY_KEEP_DAYS": int(os.environ.get("IDEMPOTENCY_KEEP_DAYS", "30")),
        "SEARCH_INDEX_DIR": os.environ.get("SEARCH_INDEX_DIR", str(instance / "search")),
    }
    config.update(overrides)
    return config
