"""Admin pages: users (create, edit, deactivate, last-admin rules), grades and categories."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Category, Grade, Role, User
from incidents.models import Incident
from tests.conftest import PASSWORD, grade, sign_in


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def user_count() -> int:
    return db.session.scalar(select(func.count(User.id)))


def new_user_form(**change) -> dict:
    return {"name": "박서연", "title": "CX 상담원", "email": "Seoyeon@Example.com", "role": "agent",
            "password": "a long enough password", **change}


def user_form(user: User, **change) -> dict:
    form = {"name": user.name, "title": user.title, "email": user.email, "role": user.role.value,
            "active": "y" if user.active else "", "password": "", **change}
    return {k: v for k, v in form.items() if v != "" or k == "password"}


def grade_form(g: Grade, **change) -> dict:
    form = {"rank": g.rank, "colour": g.colour, "description": g.description,
            "description_ko": g.description_ko, "target_share_minutes": g.target_share_minutes or "",
            "target_resolve_minutes": g.target_resolve_minutes or "",
            "postmortem_required": "y" if g.postmortem_required else "",
            "notified_role": g.notified_role.value, **change}
    return {k: v for k, v in form.items() if v != ""}


@pytest.fixture
def admin(login):
    return login("admin")


# --- users --------------------------------------------------------------------------------------

def test_create_user_who_can_then_sign_in(admin, client, app):
    response = client.post("/admin/users/new", data=new_user_form())
    assert response.status_code == 302
    assert response.location == "/admin/users"
    user = db.session.scalar(select(User).where(User.email == "seoyeon@example.com"))
    assert (user.name, user.title, user.role, user.active) == ("박서연", "CX 상담원", Role.agent, True)
    assert "seoyeon@example.com" in text_of(client.get("/admin/users"))
    fresh = app.test_client()
    signed = fresh.post("/login", data={"email": "seoyeon@example.com",
                                        "password": "a long enough password"})
    assert signed.status_code == 302
    assert fresh.get("/incidents/").status_code == 200


@pytest.mark.parametrize(("change", "message"), [
    ({"name": ""}, "This field is required"),
    ({"title": "  "}, "job title is required"),
    ({"email": "no-at-sign"}, "valid"),
    ({"password": "short"}, "10"),
    ({"role": "superuser"}, "Not a valid choice"),
    ({"name": "bad\x00name"}, "cannot be stored"),
])
def test_create_user_validation(change, message, admin, client):
    count = user_count()
    response = client.post("/admin/users/new", data=new_user_form(**change))
    assert response.status_code == 422
    assert message in text_of(response)
    assert user_count() == count


def test_duplicate_email_is_refused(admin, client, make_user):
    make_user("agent", email="taken@example.com")
    count = user_count()
    response = client.post("/admin/users/new", data=new_user_form(email="TAKEN@example.com"))
    assert response.status_code in (409, 422)
    assert "Already in use." in text_of(response)
    assert user_count() == count


def test_edit_user(admin, client, make_user):
    user = make_user("agent")
    response = client.post(f"/admin/users/{user.id}", data=user_form(
        user, name="새 이름", title="Team lead", role="lead", email="New@Example.com"))
    assert response.status_code == 302
    db.session.refresh(user)
    assert (user.name, user.title, user.role, user.email) == ("새 이름", "Team lead", Role.lead,
                                                              "new@example.com")
    assert user.check_password(PASSWORD)  # an empty password field keeps the old one


def test_edit_user_sets_a_new_password(admin, client, make_user):
    user = make_user("agent")
    client.post(f"/admin/users/{user.id}", data=user_form(user, password="another long password"))
    db.session.refresh(user)
    assert user.check_password("another long password") and not user.check_password(PASSWORD)


def test_edit_user_to_an_email_in_use_is_refused(admin, client, make_user):
    user, other = make_user("agent"), make_user("agent")
    response = client.post(f"/admin/users/{user.id}", data=user_form(user, email=other.email))
    assert response.status_code in (409, 422)
    assert "Already in use." in text_of(response)
    db.session.refresh(user)
    assert user.email != other.email


def test_deactivate_user_ends_their_access(admin, client, app, make_user):
    user = make_user("agent")
    theirs = app.test_client()
    sign_in(theirs, user)
    assert theirs.get("/incidents/").status_code == 200
    response = client.post(f"/admin/users/{user.id}", data=user_form(user, active=""))
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.active is False
    assert "No (deactivated)" in text_of(client.get("/admin/users"))
    assert theirs.get("/incidents/").status_code == 302
    assert theirs.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 401


def test_admin_cannot_deactivate_themselves(client, login, make_user):
    me = login("admin")
    make_user("admin")  # not the last admin, so only the self rule applies
    response = client.post(f"/admin/users/{me.id}", data=user_form(me, active=""))
    assert response.status_code in (409, 422)
    assert "You cannot deactivate yourself." in text_of(response)
    db.session.refresh(me)
    assert me.active is True


@pytest.mark.parametrize("change", [{"role": "manager"}, {"active": ""}])
def test_the_last_admin_cannot_be_removed(change, client, login, make_user):
    me = login("admin")
    response = client.post(f"/admin/users/{me.id}", data=user_form(me, **change))
    assert response.status_code in (409, 422)
    assert "last active admin" in text_of(response)
    db.session.refresh(me)
    assert (me.role, me.active) == (Role.admin, True)


def test_another_admin_can_be_demoted_while_one_remains(client, login, make_user):
    me = login("admin")
    other = make_user("admin")
    assert client.post(f"/admin/users/{other.id}", data=user_form(other, role="agent")).status_code == 302
    db.session.refresh(other)
    assert other.role == Role.agent
    response = client.post(f"/admin/users/{me.id}", data=user_form(me, role="agent"))
    assert "last active admin" in text_of(response)


def test_an_inactive_admin_does_not_count(client, login, make_user):
    me = login("admin")
    dormant = make_user("admin")
    dormant.active = False
    db.session.commit()
    response = client.post(f"/admin/users/{me.id}", data=user_form(me, role="lead"))
    assert "last active admin" in text_of(response)
    db.session.refresh(me)
    assert me.role == Role.admin


def test_unknown_user_is_404(admin, client):
    assert client.get("/admin/users/98765").status_code == 404


# --- grades -------------------------------------------------------------------------------------

def listed_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'<td[^>]*><a href="/incidents/(\d+)">', response.get_data(as_text=True))]


def test_grade_rank_change_reorders_incidents(admin, client, make_incident):
    red = make_incident(admin, grade="Red", title="red")
    green = make_incident(admin, grade="Green", title="green")
    assert listed_ids(client.get("/incidents/")) == [red.id, green.id]
    green_grade = grade("Green")
    response = client.post(f"/admin/grades/{green_grade.id}", data=grade_form(green_grade, rank=0 + 1))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Incident, green.id).grade_rank == 1
    red_grade = grade("Red")
    client.post(f"/admin/grades/{red_grade.id}", data=grade_form(red_grade, rank=5))
    db.session.expire_all()
    assert db.session.get(Incident, red.id).grade_rank == 5
    assert listed_ids(client.get("/incidents/")) == [green.id, red.id]
    grades_page = text_of(client.get("/admin/grades"))
    assert grades_page.index(">Green<") < grades_page.index(">Red<")


def test_grade_edit_changes_targets_and_colour(admin, client):
    blue = grade("Blue")
    response = client.post(f"/admin/grades/{blue.id}", data=grade_form(
        blue, colour="#ABCDEF", target_share_minutes=30, description_ko="파랑 설명",
        postmortem_required="y", notified_role="manager"))
    assert response.status_code == 302
    db.session.refresh(blue)
    assert (blue.colour, blue.target_share_minutes, blue.description_ko, blue.postmortem_required,
            blue.notified_role) == ("#ABCDEF", 30, "파랑 설명", True, Role.manager)
    # The list reads every grade anyway; other pages read only the colours. Both show the new one.
    for page in ("/incidents/", "/dashboard", "/account"):
        styles = re.search(r"<style>(.*?)</style>", client.get(page).get_data(as_text=True)).group(1)
        assert f".grade-{blue.id}{{--grade:#ABCDEF}}" in styles, page
        assert styles.count(".grade-") == len(db.session.scalars(select(Grade)).all()), page


@pytest.mark.parametrize("change", [
    {"colour": "red"}, {"colour": "#12345"}, {"colour": "#12345g"}, {"colour": "#123456;}body{"},
    {"colour": ""}, {"rank": "0"}, {"rank": "x"}, {"target_share_minutes": "0"},
    {"target_resolve_minutes": "-5"}, {"notified_role": "boss"},
])
def test_grade_validation(change, admin, client):
    blue = grade("Blue")
    before = (blue.rank, blue.colour, blue.target_share_minutes, blue.target_resolve_minutes,
              blue.notified_role)
    response = client.post(f"/admin/grades/{blue.id}", data={**grade_form(blue), **change})
    assert response.status_code == 422
    db.session.refresh(blue)
    assert (blue.rank, blue.colour, blue.target_share_minutes, blue.target_resolve_minutes,
            blue.notified_role) == before


# --- categories ---------------------------------------------------------------------------------

def test_add_and_edit_a_category(admin, client):
    response = client.post("/admin/categories/new", data={"slug": "packaging", "name": "Packaging",
                                                          "name_ko": "포장", "active": "y"})
    assert response.status_code == 302
    created = db.session.scalar(select(Category).where(Category.slug == "packaging"))
    assert (created.name, created.name_ko, created.active) == ("Packaging", "포장", True)
    assert "Packaging" in text_of(client.get("/admin/categories"))
    response = client.post(f"/admin/categories/{created.id}", data={"slug": "packaging",
                                                                   "name": "Packing", "name_ko": "포장"})
    assert response.status_code == 302
    db.session.refresh(created)
    assert (created.name, created.active) == ("Packing", False)
    # Inactive categories are no longer offered for new incidents.
    form = text_of(client.get("/incidents/new"))
    offered = re.search(r'<select[^>]*id="category"[^>]*>(.*?)</select>', form, re.S).group(1)
    assert f'value="{created.id}"' not in offered and "Delivery" in offered


def test_duplicate_category_key_is_refused(admin, client):
    count = db.session.scalar(select(func.count(Category.id)))
    response = client.post("/admin/categories/new", data={"slug": "delivery", "name": "Again"})
    assert response.status_code in (409, 422)
    assert "Already used by Delivery." in text_of(response)
    assert db.session.scalar(select(func.count(Category.id))) == count
    payment = db.session.scalar(select(Category).where(Category.slug == "payment"))
    response = client.post(f"/admin/categories/{payment.id}", data={"slug": "delivery",
                                                                   "name": "Payment"})
    assert response.status_code in (409, 422)
    db.session.refresh(payment)
    assert payment.slug == "payment"


@pytest.mark.parametrize("form", [{"slug": "Bad Key", "name": "x"}, {"slug": "", "name": "x"},
                                  {"slug": "ok_key", "name": ""}, {"slug": "k" * 41, "name": "x"}])
def test_category_validation(form, admin, client):
    count = db.session.scalar(select(func.count(Category.id)))
    assert client.post("/admin/categories/new", data=form).status_code == 422
    assert db.session.scalar(select(func.count(Category.id))) == count


def test_korean_category_names_show_in_korean(client, login):
    me = login("admin")
    me.locale = "ko"
    db.session.commit()
    body = text_of(client.get("/incidents/"))
    assert "배송" in body and "결제" in body
