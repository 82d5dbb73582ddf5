"""User services: accounts, roles, passwords, sign-in sessions and API tokens."""

from __future__ import annotations

import re
import secrets
from functools import cache

from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.i18n import gettext as _
from app.models import ApiToken, Role, User, UserSession
from app.textcheck import bad_text
from app.timeutil import utcnow

PASSWORD_MIN = 10
# zxcvbn's score runs 0 (guessed at once) to 4; 3 resists an offline attack on a slow hash.
PASSWORD_SCORE_MIN = 3
# zxcvbn refuses longer input (its time grows with the length); the first 72 characters tell
# enough, and a password that long is not weak for lack of the rest.
_PASSWORD_ANALYSED = 72
# The site's own name: a guesser tries it as readily as the person's.
_SITE_WORDS = ("incidentbook",)


def _check_fields(email: str, name: str, title: str) -> dict[str, str]:
    problems = {}
    if "@" not in email or len(email) > 254 or " " in email:
        problems["email"] = _("Give a valid e-mail address.")
    if not name.strip() or len(name) > 120:
        problems["name"] = _("A name is required (they sign letters).")
    if not title.strip() or len(title) > 120:
        problems["title"] = _("A job title is required (it appears under the signature).")
    for field, value in (("email", email), ("name", name), ("title", title)):
        if bad_text(value):
            problems[field] = _("Contains characters that cannot be stored.")
    return problems


def _check_password(password: str, *, name: str, email: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise ValidationFailed(_("The password is too short."),
                               {"password": _("Use at least %(n)s characters.", n=PASSWORD_MIN)})
    problem = password_problem(password, name=name, email=email)
    if problem:
        raise ValidationFailed(_("Choose a password that is harder to guess."),
                               {"password": problem})


def _personal_words(name: str, email: str) -> list[str]:
    """The person's name and e-mail, whole and in their parts: "Kim Minji",
    "minji.kim@example.com" gives kim, minji, minji.kim, example..."""
    email = email.strip().lower()
    local, _at, domain = email.partition("@")
    names = name.split()
    words = [name.strip(), "".join(names), "".join(reversed(names)), *names,
             email, local, domain, *re.split(r"[._+\-@]", email)]
    return [w for w in dict.fromkeys(w.lower() for w in words) if len(w) >= 3]


def password_problem(password: str, *, name: str, email: str) -> str | None:
    """Why `password` is too easy to guess, in the reader's language; None when it is not.

    zxcvbn finds the parts a guesser would try (common passwords, words, names, keyboard
    rows, repeats, sequences, dates, the person's own name and address) and scores the
    whole; the reason given is ours, chosen from the parts it found, so it can be translated.
    """
    result = zxcvbn(password[:_PASSWORD_ANALYSED],
                    user_inputs=[*_personal_words(name, email), *_SITE_WORDS])
    if result["score"] >= PASSWORD_SCORE_MIN:
        return None
    advice = _("Use three or four unrelated words, or a sentence only you would write.")
    return f"{_weakness(result['sequence'])} {advice}"


def _weakness(parts: list[dict]) -> str:
    """Our sentence for the part of a weak password that gives it away (zxcvbn's matches)."""
    if any(p.get("dictionary_name") == "user_inputs" for p in parts):
        return _("It contains your name, your e-mail address or the name of this site.")
    common = [p for p in parts if p.get("dictionary_name") == "passwords"]
    # "1234" is in the common-password list too, but to a person it is digits, not a word.
    words = [p for p in parts if p["pattern"] == "dictionary" and
             any(c.isalpha() for c in p["token"])]
    if len(parts) == 1 and common and not (common[0].get("l33t") or common[0].get("reversed")):
        return _("This is a very common password.")
    if len(parts) == 1 and words and not common:
        return _("A single word or name is easy to guess.")
    if len(words) == 1 and len(parts) > 1 and \
            not any(c.isalpha() for p in parts if p is not words[0] for c in p["token"]):
        return _("A word with a few digits or symbols is easy to guess.")
    longest = max(parts, key=lambda p: len(p["token"]))
    if longest in common:
        return _("It is a common password with small changes; guessers try those first.")
    reasons = {
        "spatial": _("Rows of neighbouring keys, like qwerty or asdf, are easy to guess."),
        "repeat": _("Repeated characters or words, like aaaa or abcabc, are easy to guess."),
        "sequence": _("Sequences like abcd or 6543 are easy to guess."),
        "date": _("Dates and years are easy to guess."),
        "regex": _("Dates and years are easy to guess."),
        "dictionary": _("A few common words are easy to guess when the password is short."),
    }
    return reasons.get(longest["pattern"], _("It is too short and simple to resist guessing."))


def user_count() -> int:
    return db.session.scalar(select(func.count(User.id)))


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


@cache
def _dummy_hash() -> str:
    # Same algorithm and parameters as every new password, so checking against it costs
    # what checking a real one does.
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, else None.

    An unknown e-mail or an inactive account does the same password check as a wrong
    password does, so the answer's timing does not tell which e-mails have accounts.
    """
    user = find_by_email(email)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    matches = user.check_password(password)
    return user if matches and user.active else None


# --- sessions: one row per signed-in browser ----------------------------------------------------

def start_session(user: User, *, user_agent: str = "", address: str = "") -> str:
    """A new session for `user`; returns its token, for the browser's cookie only."""
    row, token = UserSession.start(user.id, user_agent=user_agent, address=address)
    db.session.add(row)
    db.session.flush()
    return token


def end_session(token: str) -> None:
    db.session.execute(update(UserSession)
                       .where(UserSession.token_hash == UserSession.hash(token),
                              UserSession.ended_at.is_(None))
                       .values(ended_at=utcnow()))


def end_sessions(user: User, *, keep_token: str | None = None) -> None:
    """End every open session of `user`, but the one holding `keep_token` (the person's own)."""
    query = update(UserSession).where(UserSession.user_id == user.id,
                                      UserSession.ended_at.is_(None))
    if keep_token:
        query = query.where(UserSession.token_hash != UserSession.hash(keep_token))
    db.session.execute(query.values(ended_at=utcnow()))


def change_password(user: User, *, current_password: str, new_password: str,
                    keep_token: str | None) -> None:
    """The person's own change: it needs the current password, and signs out every other
    browser (whoever else had the account stays out) but the one holding `keep_token`."""
    if not user.check_password(current_password):
        raise ValidationFailed(_("The current password is wrong."),
                               {"current_password": _("This is not your current password.")})
    _check_password(new_password, name=user.name, email=user.email)
    user.set_password(new_password)
    end_sessions(user, keep_token=keep_token)
    db.session.flush()


def create_user(*, email: str, name: str, title: str, role: Role, password: str,
                locale: str | None = None, timezone: str | None = None) -> User:
    email = email.strip().lower()
    problems = _check_fields(email, name, title)
    if problems:
        raise ValidationFailed(_("Some fields need attention."), problems)
    _check_password(password, name=name, email=email)
    if find_by_email(email) is not None:
        raise Conflict(_("A user with this e-mail already exists."),
                       {"email": _("Already in use.")})
    user = User(email=email, name=name.strip(), title=title.strip(), role=role, active=True,
                locale=locale, timezone=timezone or "Asia/Seoul")
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def create_first_admin(**fields) -> User:
    """Only while there are no users at all: the first-run screen."""
    if user_count() > 0:
        raise Conflict(_("Incidentbook is already set up; sign in instead."))
    return create_user(role=Role.admin, **fields)


def _active_admins() -> int:
    return db.session.scalar(select(func.count(User.id)).where(User.role == Role.admin,
                                                               User.active.is_(True)))


def update_user(actor: User, user: User, *, email: str, name: str, title: str, role: Role,
                active: bool, password: str = "") -> User:
    email = email.strip().lower()
    problems = _check_fields(email, name, title)
    if problems:
        raise ValidationFailed(_("Some fields need attention."), problems)
    other = find_by_email(email)
    if other is not None and other.id != user.id:
        raise Conflict(_("A user with this e-mail already exists."), {"email": _("Already in use.")})
    losing_admin = user.role == Role.admin and user.active and (role != Role.admin or not active)
    if losing_admin and _active_admins() <= 1:
        raise Conflict(_("This is the last active admin; make someone else admin first."))
    if user.id == actor.id and not active:
        raise Conflict(_("You cannot deactivate yourself."))
    if password:
        _check_password(password, name=name, email=email)
        user.set_password(password)
    # Whoever holds a session of theirs signs in again: with the new password, under the new
    # role, or (deactivated) not at all, and a later reactivation revives no old cookie.
    if password or role != user.role or (user.active and not active):
        end_sessions(user)
    user.email, user.name, user.title, user.role, user.active = (
        email, name.strip(), title.strip(), role, active)
    db.session.flush()
    return user


def issue_token(email: str) -> str:
    user = find_by_email(email)
    if user is None:
        raise NotFound(_("No user has the e-mail %(email)s.", email=email))
    token_row, token = ApiToken.issue(user)
    db.session.add(token_row)
    db.session.flush()
    return token


def user_for_token(token: str) -> User | None:
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == ApiToken.hash(token),
                                                   ApiToken.revoked_at.is_(None)))
    if row is None or not row.user.active:
        return None
    return row.user
