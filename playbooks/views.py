"""Search, playbook pages, and suggestions while an incident is being opened."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app import bounds, search, templating
from app.auth import role_required, safe_next
from app.errors import DomainError
from app.extensions import db
from app.i18n import locale_code
from app.models import Category, Role
from playbooks import services
from playbooks.forms import SearchForm
from playbooks.models import Playbook, PlaybookStatus

bp = Blueprint("playbooks", __name__)

PER_PAGE = 10


@bp.get("/search")
def search_page():
    form = SearchForm(request.args)
    form.grade.choices = [("", _("Any grade"))] + [(g.name, g.name) for g in templating.grades()]
    form.category.choices = [("", _("Any category"))] + [
        (c.slug, c.label(locale_code())) for c in db.session.scalars(select(Category)
                                                                    .order_by(Category.name))]
    results = None
    form.validate()
    if form.q.data and not form.errors:
        start = datetime.combine(form.start.data, time.min, tzinfo=UTC) if form.start.data else None
        end = (datetime.combine(form.end.data + timedelta(days=1), time.min, tzinfo=UTC)
               if form.end.data else None)
        results = search.search(form.q.data, types=[form.type.data] if form.type.data else [],
                                grade=form.grade.data or "", category=form.category.data or "",
                                tag=form.tag.data or "", date_from=start, date_to=end,
                                page=max(1, request.args.get("page", 1, type=int)),
                                per_page=PER_PAGE)
    return render_template("playbooks/search.html", form=form, results=results)


@bp.get("/playbooks/")
def index():
    playbooks = db.session.scalars(select(Playbook).where(
        Playbook.status == PlaybookStatus.published).order_by(Playbook.updated_at.desc()).limit(200))
    return render_template("playbooks/index.html", playbooks=playbooks)


@bp.get("/playbooks/<int:playbook_id>")
def detail(playbook_id: int):
    playbook = services.get(playbook_id)
    number = request.args.get("version", type=int)
    version = None
    if number is not None:
        version = next((v for v in playbook.versions if v.number == number), None)
        if version is None:
            abort(404)
    content = version.content if version else playbook.snapshot()
    return render_template("playbooks/detail.html", playbook=playbook, content=content,
                           version=version, sources=services.source_links(playbook))


@bp.get("/playbooks/similar")
def similar():
    """Suggestions for the open-incident form (fetched as the title is typed)."""
    text = (request.args.get("text") or "")[:2000]
    hits = services.similar(text) if text.strip() else []
    return render_template("playbooks/_similar.html", hits=hits)


@bp.post("/playbooks/<int:playbook_id>/feedback")
@role_required(Role.agent)
def feedback(playbook_id: int):
    incident_id = bounds.id_or_none(request.form.get("incident_id", ""))
    action = request.form.get("action", "")
    if incident_id is None:
        abort(400)
    try:
        services.feedback(current_user, incident_id, playbook_id, action)
    except DomainError as err:
        db.session.rollback()
        return render_template("error.html", status=err.status, message=err.message), err.status
    db.session.commit()
    if action == "used":
        return redirect(url_for("playbooks.detail", playbook_id=playbook_id))
    flash(_("Suggestion hidden for this incident."), "info")
    return redirect(safe_next(request.form.get("next")))
