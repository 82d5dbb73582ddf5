"""Sign-in, first run, language switch, account settings and role checks for web views."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import ColumnElement, Select, bindparam, event, select
from sqlalchemy.orm import Session

from app import users
from app.errorpages import unsaved_form
from app.errors import DomainError
from app.extensions import db, login_manager
from app.forms import AccountForm, LoginForm, PasswordForm, SetupForm
from app.i18n import LANGUAGES, ngettext, timezones
from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.models import Role, User, UserSession
from app.signin_limits import failed_sign_ins, failure_keys

bp = Blueprint("auth", __name__)

# Reachable without a session: everything else needs one.
PUBLIC_ENDPOINTS = {"auth.login", "auth.setup", "auth.language", "health.healthz", "static"}
# The browser's half of its server-side session (app.models.UserSession), beside Flask-Login's
# user id in the signed cookie: a copy of the cookie works only while that row is open.
SESSION_TOKEN = "_session_token"


def role_required(role: Role):
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.can(role):
                abort(403)
            return view(*args, **kwargs)
        return login_required(wrapped)
    return decorator


# Per-user figures the layout shows on every page (e.g. unread notifications), read by the
# same statement that loads the signed-in user rather than one statement each.
_user_extras: dict[str, Callable[[], ColumnElement]] = {}
_user_statement: list[Select] = []


def user_extra(name: str):
    """Register a scalar subquery on `User.id`, fetched with the signed-in user."""
    def add(fn: Callable[[], ColumnElement]) -> Callable[[], ColumnElement]:
        _user_extras[name] = fn
        _user_statement.clear()
        return fn
    return add


def _user_load_statement() -> Select:
    # Built once: a statement object reused with bind values keeps its compiled form cached.
    # The join checks the browser's session is still open in the same round trip.
    if not _user_statement:
        _user_statement.append(
            select(User, *[fn().label(name) for name, fn in _user_extras.items()])
            .join(UserSession, UserSession.user_id == User.id)
            .where(User.id == bindparam("user_id"),
                   UserSession.token_hash == bindparam("token_hash"),
                   UserSession.ended_at.is_(None)))
    return _user_statement[0]


def prefetched(name: str, user: User):
    """A figure fetched with `user`, or None when it may be out of date: nothing fetched for
    this user, or the session has written since (the request may have changed it)."""
    found = db.session.info.get("user_extras")
    if found is None or found[0] != user.id:
        return None
    return found[1].get(name)


@event.listens_for(Session, "after_flush")
def _forget_prefetched(session, _flush_context):
    session.info.pop("user_extras", None)


def _has_users(app: Flask) -> bool:
    state = app.extensions.setdefault("incidentbook", {})
    if not state.get("has_users"):
        # Cached only once true: users are never deleted, so it cannot turn false again.
        state["has_users"] = users.user_count() > 0
    return state["has_users"]


def safe_next(target: str | None) -> str:
    # Browsers read "/\evil.example" as "//evil.example" and drop tabs and newlines
    # inside a URL, so such paths would leave the site.
    if target and not urlsplit(target).netloc and target.startswith("/") and \
            not target.startswith("//") and "\\" not in target and target.isprintable():
        return target
    return url_for("root.home")


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        token = session.get(SESSION_TOKEN)
        if not token:  # a cookie from before server-side sessions
            return None
        row = db.session.execute(_user_load_statement(), {
            "user_id": int(user_id), "token_hash": UserSession.hash(token)}).first()
        if row is None:  # signed out, or ended by a password or role change
            return None
        user = row[0]
        db.session.info["user_extras"] = (user.id, dict(zip(_user_extras, row[1:], strict=True)))
        # Deactivating someone ends their open sessions too, not only future sign-ins.
        return user if user is not None and user.active else None

    @app.before_request
    def gate():
        endpoint = request.endpoint or ""
        if endpoint in PUBLIC_ENDPOINTS or request.path.startswith("/api/"):
            return None  # the API authenticates with tokens (app.api)
        if not _has_users(app):
            return redirect(url_for("auth.setup"))
        if not current_user.is_authenticated:
            if request.method == "POST" and endpoint != "auth.logout":
                # Redirecting would drop what was typed, and after sign-in the browser would
                # GET an address that only takes POST.
                return unsaved_form("signed_out", 401)
            return login_manager.unauthorized()
        return None


def _too_many_attempts(wait: int) -> str:
    return ngettext("Too many failed sign-ins. Try again in %(num)s minute.",
                    "Too many failed sign-ins. Try again in %(num)s minutes.", math.ceil(wait / 60))


def _refused(page, wait: int):
    response = make_response(page, 429)
    response.headers["Retry-After"] = str(wait)
    return response


def _sign_in(user: User) -> None:
    """Open a server-side session for `user` and hand its token to this browser; the caller
    commits."""
    token = users.start_session(user, user_agent=request.user_agent.string,
                                address=request.remote_addr or "")
    login_user(user)
    session[SESSION_TOKEN] = token


@bp.route("/login", methods=["GET", "POST"])
def login():
    if not _has_users(current_app):
        return redirect(url_for("auth.setup"))
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        failures = failed_sign_ins(current_app)
        account, address = failure_keys(form.email.data, request.remote_addr or "")
        # Counted for any e-mail, known or not, and answered alike.
        wait = failures.begin(account, address)
        if wait:
            db.session.commit()
            return _refused(render_template("auth/login.html", form=form,
                                            refused=_too_many_attempts(wait)), wait)
        user = users.authenticate(form.email.data, form.password.data)
        if user is not None:
            failures.succeeded(account)  # the address's count stays: others share it
            _sign_in(user)
            db.session.commit()
            return redirect(safe_next(request.args.get("next")))
        failures.failed(account, address)
        db.session.commit()
        # One message for unknown e-mail, wrong password and inactive account alike.
        form.password.errors.append(_("E-mail or password is wrong."))
    return render_template("auth/login.html", form=form), 200 if not form.errors else 401


@bp.post("/logout")
def logout():
    token = session.pop(SESSION_TOKEN, None)
    if token:
        users.end_session(token)  # a copy of the cookie, kept anywhere, is dead too
        db.session.commit()
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    if _has_users(current_app):
        return redirect(url_for("auth.login"))
    form = SetupForm()
    if form.validate_on_submit():
        try:
            user = users.create_first_admin(email=form.email.data, name=form.name.data,
                                            title=form.title.data, password=form.password.data,
                                            locale=session.get("locale"))
        except DomainError as err:
            db.session.rollback()
            apply_errors(form, err)
        else:
            _sign_in(user)
            db.session.commit()
            flash(_("Welcome, %(name)s. Incidentbook is ready.", name=user.name), "success")
            return redirect(url_for("incidents.index"))
    return render_template("auth/setup.html", form=form)


@bp.post("/language")
def language():
    code = request.form.get("locale", "")
    if code not in LANGUAGES:
        abort(400)
    session["locale"] = code
    if current_user.is_authenticated:
        current_user.locale = code
        db.session.commit()
    return redirect(safe_next(request.form.get("next")))


def _settings_form() -> AccountForm:
    form = AccountForm(obj=current_user)
    form.timezone.choices = [(z, z) for z in timezones()]
    return form


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = _settings_form()
    if form.validate_on_submit():
        current_user.locale = form.locale.data
        current_user.timezone = form.timezone.data
        session["locale"] = form.locale.data
        db.session.commit()
        flash(_("Settings saved."), "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form, password_form=PasswordForm())


@bp.post("/account/password")
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        # The current password is asked for to stop someone at an unlocked screen; wrong
        # guesses at it count as failed sign-ins, or this form would be a way round the limit.
        failures = failed_sign_ins(current_app)
        account, address = failure_keys(current_user.email, request.remote_addr or "")
        wait = failures.begin(account, address)
        if wait:
            db.session.commit()
            form.current_password.errors.append(_too_many_attempts(wait))
            return _refused(render_template("auth/account.html", form=_settings_form(),
                                            password_form=form), wait)
        try:
            users.change_password(current_user, current_password=form.current_password.data,
                                  new_password=form.password.data,
                                  keep_token=session.get(SESSION_TOKEN))
        except DomainError as err:
            db.session.rollback()
            if "current_password" in err.fields:
                failures.failed(account, address)
            else:  # the current password was right; only the new one was refused
                failures.succeeded(account)
            db.session.commit()
            apply_errors(form, err)
        else:
            failures.succeeded(account)
            db.session.commit()
            flash(_("Password changed. Every other browser signed in as you is now signed out."),
                  "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=_settings_form(), password_form=form), 422


def apply_errors(form, err: DomainError) -> None:
    """Put a service's field errors onto the form, the rest into a flash message."""
    placed = False
    for name, message in err.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
            placed = True
    if not placed or not err.fields:
        flash(err.message, "error")

