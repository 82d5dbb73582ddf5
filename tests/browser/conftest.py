"""Browser fixtures: the app served on a real port, Debian's headless Chromium, seeding helpers."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext
from playwright.sync_api import Page, expect, sync_playwright
from werkzeug.serving import make_server

from app import users
from app.extensions import db
from app.models import Category, Grade, Role, User
from app.timeutil import utcnow
from incidents import services
from incidents.models import Channel, EventKind, Status
from tests.conftest import PASSWORD, build_app

HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE / "screenshots"

# Never a downloaded browser: Debian's Chromium, with everything that phones home turned off.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config, items):
    """Everything in this folder is a browser test, so `-m "not browser"` skips it."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


# --- the live app ---------------------------------------------------------------------------

@pytest.fixture
def live_app(db_uri, tmp_path):
    """The app as a user meets it: CSRF on, same database set-up as the rest of the suite."""
    app = build_app(db_uri, SECRET_KEY="browser-test-secret", WTF_CSRF_ENABLED=True,
                    SEARCH_INDEX_DIR=str(tmp_path / "search"))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def live_server(live_app):
    """Serve `live_app` on a free port in a background thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def tr(live_app):
    """What the running app shows for `msgid` in `locale`: the catalogue may be half done."""
    def translate(msgid: str, locale: str = "en", **variables) -> str:
        with live_app.test_request_context(), force_locale(locale):
            return gettext(msgid, **variables)
    return translate


# --- seeding through the services, as the app itself would ----------------------------------

@dataclass(frozen=True)
class Person:
    """Plain values of a seeded user: ORM objects do not outlive their app context."""
    id: int
    email: str
    name: str
    role: str
    password: str = PASSWORD


@pytest.fixture
def seed_user(live_app):
    counter = itertools.count(1)

    def make(role: str = "agent", **kw) -> Person:
        n = next(counter)
        with live_app.app_context():
            user = users.create_user(
                email=kw.pop("email", f"{role}{n}@example.com"),
                name=kw.pop("name", f"{role.title()} Person {n}"),
                title=kw.pop("title", f"{role.title()} title"),
                role=Role(role), password=kw.pop("password", PASSWORD), **kw)
            db.session.commit()
            return Person(user.id, user.email, user.name, role)
    return make


@pytest.fixture
def seed_incident(live_app):
    """Open an incident through the service; `status` walks it forward; returns its id."""
    def make(actor: Person, *, title: str, grade: str = "Blue", age_minutes: int = 20,
             category: str | None = None, channel: str | None = None, status: str = "detected",
             notes: tuple[str, ...] = (), customers: tuple[services.CustomerData, ...] = (),
             **fields) -> int:
        with live_app.app_context():
            user = db.session.get(User, actor.id)
            incident = services.create_incident(
                user, title=title,
                grade=db.session.scalar(sa.select(Grade).where(Grade.name == grade)),
                category=db.session.scalar(sa.select(Category).where(Category.slug == category))
                if category else None,
                channel=Channel(channel) if channel else None,
                detected_at=utcnow() - timedelta(minutes=age_minutes), customers=customers,
                **fields)
            for target in list(Status)[1:Status(status).step + 1]:
                services.change_status(user, incident, target)
            for note in notes:
                services.add_event(user, incident, EventKind.note, note)
            db.session.commit()
            return incident.id
    return make


# --- the browser ----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, live_server):
    """Open a page in a fresh context (own cookies); `locale` sets Accept-Language."""
    contexts = []

    def make(locale: str = "en-US") -> Page:
        context = browser.new_context(base_url=live_server, locale=locale,
                                      viewport={"width": 1280, "height": 800})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    expect.set_options(timeout=TIMEOUT_MS)
    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page) -> Page:
    return new_page()


def _sign_in(page: Page, person: Person, labels: dict[str, str] | None = None) -> None:
    labels = labels or {}
    page.goto("/login")
    page.get_by_label(labels.get("E-mail", "E-mail"), exact=True).fill(person.email)
    page.get_by_label(labels.get("Password", "Password"), exact=True).fill(person.password)
    page.get_by_role("button", name=labels.get("Sign in", "Sign in"), exact=True).click()
    expect(page.get_by_role("link", name=person.name, exact=True)).to_be_visible()


def _sign_out(page: Page, label: str = "Sign out") -> None:
    page.get_by_role("button", name=label, exact=True).click()
    page.wait_for_url("**/login")


def _screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _each_language(page: Page):
    """Yield "en", then switch the page to Korean with the header's button and yield "ko"."""
    yield "en"
    page.get_by_role("button", name="한국어").click()
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    yield "ko"


@pytest.fixture
def each_language():
    """each_language(page): `for lang in each_language(page):` runs a block in en, then ko."""
    return _each_language


@pytest.fixture
def sign_in():
    """sign_in(page, person, labels=None): through the real login form; `labels` maps the
    English labels to what the page shows when it is in another language."""
    return _sign_in


@pytest.fixture
def sign_out():
    """sign_out(page, label="Sign out"): the header's button; lands on the login page."""
    return _sign_out


@pytest.fixture
def screenshot():
    """screenshot(page, name): a full-page PNG in tests/browser/screenshots/ (gitignored)."""
    return _screenshot
