"""The layout's main menu: each role and language sees its own, though it is rendered once."""

from __future__ import annotations

import re

import pytest

from tests.conftest import sign_in

ROLE_LINKS = {  # links only some roles have
    "/incidents/new": "agent", "/approvals": "agent", "/reports/delegation": "lead",
    "/admin/users": "admin", "/admin/authority": "admin", "/admin/grades": "admin",
}
RANK = ["viewer", "agent", "lead", "manager", "admin"]


def _menu(html: str) -> str:
    found = re.search(r'<nav aria-label="[^"]+">.*?</nav>', html, re.S)
    assert found, "no main menu on the page"
    return found.group(0)


@pytest.mark.parametrize("order", [RANK, RANK[::-1]])
def test_each_role_sees_its_own_menu_whoever_came_first(app, make_user, order):
    for role in order:
        user = make_user(role)
        client = app.test_client()
        sign_in(client, user)
        menu = _menu(client.get("/incidents/").get_data(as_text=True))
        for link, needed in ROLE_LINKS.items():
            assert (f'href="{link}"' in menu) == (RANK.index(role) >= RANK.index(needed)), \
                (role, link)


def test_the_menu_follows_the_language(client, login):
    login("admin")
    english = _menu(client.get("/incidents/").get_data(as_text=True))
    client.post("/language", data={"locale": "ko", "next": "/incidents/"})
    korean = _menu(client.get("/incidents/").get_data(as_text=True))
    assert ">Incidents<" in english and ">Users<" in english
    assert ">인시던트<" in korean and ">Incidents<" not in korean


def test_signed_out_pages_have_no_menu(client, make_user):
    make_user("admin")  # past the first-run screen
    html = client.get("/login").get_data(as_text=True)
    assert 'aria-label="Main"' not in html


def test_the_menu_follows_the_mount_point(app, make_user):
    user = make_user("admin")
    client = app.test_client()
    sign_in(client, user)
    plain = _menu(client.get("/incidents/").get_data(as_text=True))
    mounted = _menu(client.get("/incidents/", environ_overrides={"SCRIPT_NAME": "/ib"})
                    .get_data(as_text=True))
    assert 'href="/incidents/"' in plain and 'href="/ib/incidents/"' in mounted
