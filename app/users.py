"""User services: accounts, roles and API tokens."""

from __future__ import annotations

from sqlalchemy import func, select

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.i18n import gettext as _
from app.models import ApiToken, Role, User
from app.textcheck import bad_text

PASSWORD_MIN = 10


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


def _check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise ValidationFailed(_("The password is too short."),
                               {"password": _("Use at least %(n)s characters.", n=PASSWORD_MIN)})


def user_count() -> int:
    return db.session.scalar(select(func.count(User.id)))


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(*, email: str, name: str, title: str, role: Role, password: str,
                locale: str | None = None, timezone: str | None = None) -> User:
    email = email.strip().lower()
    problems = _check_fields(email, name, title)
    if problems:
        raise ValidationFailed(_("Some fields need attention."), problems)
    _check_password(password)
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
        _check_password(password)
        user.set_password(password)
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
