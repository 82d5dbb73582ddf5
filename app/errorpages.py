"""Errors become JSON under /api and a page elsewhere; bad input is never a 500."""

from __future__ import annotations

from flask import Flask, jsonify, render_template
from werkzeug.exceptions import HTTPException

from app.api import is_api_request
from app.errors import DomainError
from app.extensions import db


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(err: DomainError):
        db.session.rollback()
        if is_api_request():
            return jsonify(err.to_dict()), err.status
        return render_template("error.html", status=err.status, message=err.message), err.status

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        if is_api_request():
            code = (err.name or "error").lower().replace(" ", "_")
            return jsonify({"error": {"code": code, "message": err.description}}), err.code
        return render_template("error.html", status=err.code, message=err.description), err.code

    @app.teardown_request
    def _rollback_unfinished(exc):
        # One commit point per request; anything left open is discarded.
        if exc is not None:
            db.session.rollback()
