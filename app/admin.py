"""Admin pages: users, grades and categories."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app import users
from app.auth import apply_errors, role_required
from app.errors import Conflict, DomainError
from app.extensions import db
from app.forms import CategoryForm, GradeForm, NewUserForm, UserForm
from app.i18n import gettext as _
from app.models import Category, Grade, Role, User
from incidents import services as incident_services

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@role_required(Role.admin)
def _admins_only():
    return None


def _commit_or_errors(form, action) -> bool:
    try:
        action()
    except DomainError as err:
        db.session.rollback()
        apply_errors(form, err)
        return False
    db.session.commit()
    return True


@bp.get("/users")
def users_index():
    people = db.session.scalars(select(User).order_by(User.active.desc(), User.name))
    return render_template("admin/users.html", users=people)


@bp.route("/users/new", methods=["GET", "POST"])
def users_create():
    form = NewUserForm()
    if form.validate_on_submit():
        ok = _commit_or_errors(form, lambda: users.create_user(
            email=form.email.data, name=form.name.data, title=form.title.data,
            role=Role(form.role.data), password=form.password.data))
        if ok:
            flash(_("User %(email)s added.", email=form.email.data.lower()), "success")
            return redirect(url_for("admin.users_index"))
    return render_template("admin/user_form.html", form=form, user=None), \
        422 if request.method == "POST" else 200


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def users_edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user)
    if request.method == "GET":
        form.role.data = user.role.value
    if form.validate_on_submit():
        ok = _commit_or_errors(form, lambda: users.update_user(
            current_user, user, email=form.email.data, name=form.name.data, title=form.title.data,
            role=Role(form.role.data), active=form.active.data, password=form.password.data or ""))
        if ok:
            flash(_("User %(email)s saved.", email=user.email), "success")
            return redirect(url_for("admin.users_index"))
    return render_template("admin/user_form.html", form=form, user=user), \
        422 if request.method == "POST" else 200


@bp.get("/grades")
def grades_index():
    grades = db.session.scalars(select(Grade).order_by(Grade.rank))
    return render_template("admin/grades.html", grades=grades)


@bp.route("/grades/<int:grade_id>", methods=["GET", "POST"])
def grades_edit(grade_id: int):
    grade = db.get_or_404(Grade, grade_id)
    form = GradeForm(obj=grade)
    if request.method == "GET":
        form.notified_role.data = grade.notified_role.value
    if form.validate_on_submit():
        values = {f: getattr(form, f).data for f in (
            "rank", "colour", "description", "description_ko", "target_share_minutes",
            "target_resolve_minutes", "postmortem_required")}
        values["notified_role"] = Role(form.notified_role.data)
        if _commit_or_errors(form, lambda: incident_services.update_grade(current_user, grade,
                                                                          **values)):
            flash(_("Grade %(name)s saved.", name=grade.name), "success")
            return redirect(url_for("admin.grades_index"))
    return render_template("admin/grade_form.html", form=form, grade=grade), \
        422 if request.method == "POST" else 200


@bp.get("/categories")
def categories_index():
    categories = db.session.scalars(select(Category).order_by(Category.active.desc(), Category.name))
    return render_template("admin/categories.html", categories=categories)


def _save_category(category: Category, form: CategoryForm) -> Category:
    clash = db.session.scalar(select(Category).where(Category.slug == form.slug.data))
    if clash is not None and clash is not category:
        raise Conflict(_("That key is taken."), {"slug": _("Already used by %(name)s.",
                                                              name=clash.name)})
    form.populate_obj(category)
    db.session.add(category)
    db.session.flush()
    return category


@bp.route("/categories/new", methods=["GET", "POST"])
@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
def categories_edit(category_id: int | None = None):
    category = db.get_or_404(Category, category_id) if category_id else Category()
    form = CategoryForm(obj=category)
    if form.validate_on_submit() and _commit_or_errors(form, lambda: _save_category(category, form)):
        flash(_("Category %(name)s saved.", name=category.name), "success")
        return redirect(url_for("admin.categories_index"))
    return render_template("admin/category_form.html", form=form, category=category), \
        422 if request.method == "POST" else 200
