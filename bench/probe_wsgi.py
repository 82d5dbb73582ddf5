"""`wsgi:app` plus two reference pages that the bench measures beside the real ones.

They show what the throughput target leaves for a page's own work: a signed-in request that
renders nothing, and one that renders only the layout (menu, language switch, inbox badge)
around an empty page. Both pass through the same sign-in check, session, user load and
hooks as every page. They exist only in the bench's server, never in `wsgi:app`.
"""

from __future__ import annotations

from flask import render_template

from wsgi import app

_EMPTY_PAGE = app.jinja_env.from_string(
    '{% extends "base.html" %}{% block title %}—{% endblock %}{% block content %}{% endblock %}')


@app.get("/_bench/signed-in")
def bench_signed_in():
    return "signed in"


@app.get("/_bench/layout")
def bench_layout():
    return render_template(_EMPTY_PAGE)
