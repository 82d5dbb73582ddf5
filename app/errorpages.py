"""Errors become JSON under /api and a page elsewhere; bad input is never a 500."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, abort, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from app.api import is_api_request
from app.errors import Busy, Conflict, DomainError, StaleEdit, ValidationFailed
from app.extensions import db
from app.i18n import gettext as _
from app.textcheck import bad_text

# Never shown back, even to the person who typed them.
_SECRET_FIELDS = ("password", "confirm", "token", "csrf")


def typed_text(form) -> list[str]:
    """What a person typed into a form that could not be saved: values with a space in them
    or longer than a word. Hidden fields (ids, statuses, return addresses) are short single
    words, so they stay out."""
    return [value for name, value in form.items(multi=True)
            if not any(secret in name.lower() for secret in _SECRET_FIELDS)
            and value.strip() and (any(c.isspace() for c in value.strip()) or len(value) > 30)]


def unsaved_form(reason: str, status: int):
    """The page for a form that arrived but cannot be saved through no fault of its own
    (`reason`: "stale", from an ended browser session, or "signed_out"): it says nothing was
    saved and shows what was typed, to copy back into the form once it is open again."""
    back = request.referrer or ""
    back = back if urlsplit(back).netloc in ("", request.host) else ""
    return render_template("error.html", status=status, unsaved=reason, back=back,
                           back_path=urlsplit(back).path if back else None,
                           typed=typed_text(request.form)), status


def init_app(app: Flask) -> None:
    @app.before_request
    def _readable_query():
        # Forms and API bodies refuse such text field by field; an address's parameters reach
        # queries straight away, and PostgreSQL fails on a NUL in any of them (a 500).
        if any(bad_text(key) or any(bad_text(value) for value in values)
               for key, values in request.args.lists()):
            abort(400, description=_("The address holds a character that cannot be read (such as "
                                     "NUL). Remove it and try again."))

    @app.errorhandler(CSRFError)
    def stale_form(_err: CSRFError):
        # The browser session the form came from has ended (closed, cookies cleared, or the
        # server's key changed).
        return unsaved_form("stale", 400)

    @app.errorhandler(DomainError)
    def domain_error(err: DomainError):
        db.session.rollback()
        if is_api_request():
            return jsonify(err.to_dict()), err.status
        return render_template("error.html", status=err.status, message=err.message), err.status

    # The handlers below run on a session whose flush or commit failed. It must be rolled
    # back before anything else touches the database: the message's language comes from the
    # signed-in user, and on PostgreSQL reading it on such a session raised again (a 500).

    @app.errorhandler(StaleDataError)
    def stale(_err):
        # Two decisions on the same record raced (two approvals, payments, status moves,
        # edits); the version check let one through and the other loses cleanly.
        db.session.rollback()
        return domain_error(StaleEdit(_("Someone changed this record at the same moment. "
                                        "Nothing of yours was saved; reload to see what "
                                        "they did.")))

    @app.errorhandler(IntegrityError)
    def duplicate(_err):
        # A unique rule refused a row that a simultaneous request wrote first (two
        # postmortems for one incident, one incident made into two playbooks at once).
        db.session.rollback()
        return domain_error(Conflict(_("Someone did the same thing at the same moment, and "
                                       "theirs was saved first. Nothing of yours was saved; "
                                       "reload to see it.")))

    @app.errorhandler(DataError)
    def out_of_range(_err):
        # The database refused a value (a number past its range); every field has its own
        # bound, so this is the net under them, never a 500.
        db.session.rollback()
        return domain_error(ValidationFailed(_("A value is out of the range that can be "
                                               "stored. Nothing was saved.")))

    @app.errorhandler(OperationalError)
    def busy(err: OperationalError):
        db.session.rollback()
        code = getattr(err.orig, "sqlstate", None) or ""
        if code in ("40001", "40P01"):  # PostgreSQL: serialization failure, deadlock
            return domain_error(StaleEdit(_("Someone changed this record at the same moment. "
                                            "Nothing of yours was saved; reload to see what "
                                            "they did.")))
        if "database is locked" in str(err.orig):  # SQLite: the busy timeout ran out
            response = make_response(domain_error(Busy(_(
                "The database is busy; nothing was saved. Try again in a moment."))))
            response.headers["Retry-After"] = "5"
            return response
        raise err

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        if is_api_request():
            code = (err.name or "error").lower().replace(" ", "_")
            response = jsonify({"error": {"code": code, "message": err.description}})
        else:
            # Werkzeug's stock descriptions are English only; error.html explains the status.
            message = "" if err.description == type(err).description else err.description
            response = make_response(render_template("error.html", status=err.code,
                                                     message=message))
        response.status_code = err.code
        # The exception's own headers go with the answer: Allow on a 405 (RFC 9110 requires
        # it), Retry-After, WWW-Authenticate. Only the body, and so its type, is ours.
        for name, value in err.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.teardown_request
    def _rollback_unfinished(exc):
        # One commit point per request; anything left open is discarded.
        if exc is not None:
            db.session.rollback()

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        if request.endpoint != "static":
            # Pages and API answers show customers' names and contacts: no copy of them may
            # stay in a shared browser's or proxy's cache after the person signs out.
            headers.setdefault("Cache-Control", "no-store")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Content-Security-Policy",
                           "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                           "script-src 'self'; frame-ancestors 'none'; form-action 'self'")
        return response
