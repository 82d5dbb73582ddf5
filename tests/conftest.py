"""Fixtures: a fresh migrated database per test (SQLite, or PostgreSQL when
TEST_DATABASE_URL is set), clients, signed-in users of each role, factories."""

from __future__ import annotations

import gc
import itertools
import os
import shutil

import pytest
import sqlalchemy as sa
from flask import g, request_started
from flask_migrate import upgrade
from werkzeug.security import generate_password_hash

from app import create_app, search, users
from app.extensions import db
from app.models import Grade, Role, User
from incidents import services


def pytest_collection_finish(session):
    """Every test builds an app, so a few hundred thousand long-lived objects (modules, the
    apology check's model, SQLAlchemy's mappers) would be walked by each full garbage
    collection: measured, over a third of a test file's time. Freeze what exists once the
    tests are collected and collect the young generation less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 100)


def _worker_database(url: str | None) -> str | None:
    """Under pytest-xdist each worker empties and refills its database before every test, so
    each gets its own: `test_gw0`, `test_gw1`, ... beside the database `url` names, created on
    first use (the server allows it: trust auth, as on this machine and in CI)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base = sa.engine.make_url(url)
    name = f"{base.database}_{worker}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                       {"name": name}) is None:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
PASSWORD = "correct horse battery"
# The once-a-minute escalation check is off in tests: they call run_escalations(now).
BASE_CONFIG = {"TESTING": True, "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False,
               "SQLALCHEMY_ENGINE_OPTIONS": {}, "ESCALATION_CHECK_SECONDS": 0}


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


class PostgresTemplate:
    """Migrate once per session; per test, empty every table, restart every sequence and put
    the migrations' seed rows (grades, categories, policy, settings) back: far faster than
    re-running the migrations. Emptying must pass the timeline's append-only triggers."""

    def __init__(self, url: str):
        self.url = url
        _reset_postgres(url)
        app = build_app(url)
        with app.app_context():
            upgrade()
            db.engine.dispose()
        self.engine = sa.create_engine(url)
        with self.engine.connect() as conn:
            meta = sa.MetaData()
            meta.reflect(conn)
            self.tables = [t for t in meta.sorted_tables if t.name != "alembic_version"]
            self.seed = {t.name: [dict(r._mapping) for r in conn.execute(sa.select(t))]
                         for t in self.tables}
            self.superuser = conn.scalar(sa.text(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
            self.sequences = conn.scalars(sa.text(
                "SELECT quote_ident(relname) FROM pg_class WHERE relkind = 'S' "
                "AND relnamespace = 'public'::regnamespace ORDER BY relname")).all()
        self.seed = {name: rows for name, rows in self.seed.items() if rows}

    def reset(self) -> None:
        with self.engine.begin() as conn:
            if self.superuser:
                # DELETE from thirty nearly empty tables: measured 13 ms against TRUNCATE's 270,
                # which gives every table new files. 'replica' turns the append-only and
                # foreign-key triggers off for these statements only.
                conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
                conn.execute(sa.text("; ".join(f'DELETE FROM "{t.name}"' for t in self.tables)))
                conn.execute(sa.text("SET LOCAL session_replication_role = DEFAULT"))
                if self.sequences:
                    conn.execute(sa.text("SELECT " + ", ".join(
                        f"setval('{name}', 1, false)" for name in self.sequences)))
            else:
                names = ", ".join(f'"{t.name}"' for t in self.tables)
                conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            for table in self.tables:
                rows = self.seed.get(table.name)
                if not rows:
                    continue
                conn.execute(table.insert(), rows)
                if "id" in table.c:
                    conn.execute(sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT max(id) FROM \"{table.name}\"))"))


@pytest.fixture(scope="session")
def postgres_template():
    if not TEST_DATABASE_URL:
        yield None
        return
    template = PostgresTemplate(_worker_database(TEST_DATABASE_URL))
    yield template
    template.engine.dispose()


def build_app(uri: str, **config):
    return create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": uri, **config})


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """Migrate once, copy per test: a fresh database costs a file copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    app = build_app(f"sqlite:///{path}")
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return path


@pytest.fixture
def db_uri(tmp_path, sqlite_template, postgres_template):
    if postgres_template is not None:
        postgres_template.reset()
        return postgres_template.url
    path = tmp_path / "test.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app_config():
    """Override in a test module to change settings (e.g. enable CSRF)."""
    return {}


@pytest.fixture
def app(db_uri, app_config, tmp_path):
    app = build_app(db_uri, SEARCH_INDEX_DIR=str(tmp_path / "search"), **app_config)
    with app.app_context():
        yield app
        search.close_searchers()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    counter = itertools.count(1)

    def make(role: str = "agent", **kw):
        n = next(counter)
        user = users.create_user(
            email=kw.pop("email", f"{role}{n}@example.com"),
            name=kw.pop("name", f"{role.title()} Person {n}"),
            title=kw.pop("title", f"{role.title()} title"),
            role=Role(role), password=kw.pop("password", PASSWORD), **kw)
        db.session.commit()
        return user
    return make


def sign_in(client, user) -> str:
    """Sign `user` in on `client` as the login form does: a server-side session, its token in
    the cookie beside Flask-Login's user id. Returns the token."""
    from app.auth import SESSION_TOKEN

    token = users.start_session(user)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
        session[SESSION_TOKEN] = token
    return token


@pytest.fixture
def login(client, make_user):
    """Sign a user of `role` in on `client` and return them."""
    def do(role: str = "agent", **kw):
        user = make_user(role, **kw)
        sign_in(client, user)
        return user
    return do


class ApiClient:
    def __init__(self, client, token: str, user):
        self.client, self.token, self.user = client, token, user
        self.headers = {"Authorization": f"Bearer {token}"}

    def __getattr__(self, method):
        if method not in ("get", "post", "put", "patch", "delete"):
            raise AttributeError(method)

        def call(path, **kw):
            headers = {**self.headers, **kw.pop("headers", {})}
            return getattr(self.client, method)(path, headers=headers, **kw)
        return call


@pytest.fixture(scope="session")
def password_hash() -> str:
    """PASSWORD hashed once: hashing it per user is the slowest part of making one."""
    return generate_password_hash(PASSWORD)


@pytest.fixture
def team(client, password_hash) -> dict[str, ApiClient]:
    """An API client per role, viewer to admin ("agent@example.com", ...); each person can
    also sign in on the web with PASSWORD."""
    clients = {}
    for role in Role:
        user = User(email=f"{role.value}@example.com", name=f"{role.value.title()} Person",
                    title=role.value, role=role, password_hash=password_hash, active=True,
                    timezone="UTC")
        db.session.add(user)
        db.session.flush()
        clients[role.value] = ApiClient(client, users.issue_token(user.email), user)
    db.session.commit()
    return clients


@pytest.fixture
def api(client, make_user):
    """An API client with a bearer token for a new user of `role`."""
    def do(role: str = "agent", **kw) -> ApiClient:
        user = make_user(role, **kw)
        token = users.issue_token(user.email)
        db.session.commit()
        return ApiClient(client, token, user)
    return do


def grade(name: str) -> Grade:
    return db.session.scalar(sa.select(Grade).where(Grade.name == name))


@pytest.fixture
def make_incident(app, make_user):
    """Create an incident through the service; overrides go to create_incident."""
    def make(actor=None, **overrides):
        actor = actor or make_user("agent")
        overrides.setdefault("title", "Payment page times out")
        overrides["grade"] = grade(overrides.get("grade", "Blue")) \
            if isinstance(overrides.get("grade", "Blue"), str) else overrides["grade"]
        incident = services.create_incident(actor, **overrides)
        db.session.commit()
        return incident
    return make


@pytest.fixture(autouse=True)
def _fresh_g_per_request(request):
    """Give every test-client request its own `g`, as in production.

    The `app` fixture keeps one app context open for the whole test, and Flask reuses
    it for the client's requests; `g` would then carry Flask-Login's user (and Babel's
    locale, cached grade styles, ...) from one request into the next, so a changed
    session or a deactivated account would go unnoticed.
    """
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")

    def clear(_sender, **_extra):
        vars(g._get_current_object()).clear()

    request_started.connect(clear, app, weak=False)
    yield
    request_started.disconnect(clear, app)


SNAPSHOT_TABLES = ("users", "api_tokens", "grades", "categories", "incidents",
                   "affected_customers", "incident_responders", "timeline_events")


@pytest.fixture
def snapshot(app):
    """A callable returning every row of the core tables, read on a separate connection,
    so `snapshot() == before` proves that a request changed nothing that was committed."""
    def take() -> dict[str, list[tuple]]:
        with db.engine.connect() as conn:
            return {table: [tuple(row) for row in conn.execute(
                sa.text(f"SELECT * FROM {table} ORDER BY 1, 2"))] for table in SNAPSHOT_TABLES}
    return take
