"""Sessions end when they should (logout, password and role changes) and sign-in resists
guessing: failures counted across workers, the same work for every wrong answer, and no
password a guesser tries first."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import event, func, select

from app import users
from app.auth import SESSION_TOKEN
from app.demo import DEMO_PASSWORD, TEAM
from app.errors import ValidationFailed
from app.extensions import db
from app.models import LoginFailure, Role, User, UserSession
from app.signin_limits import failure_keys
from app.timeutil import as_utc, utcnow
from incidents.models import Incident
from tests.conftest import PASSWORD, build_app

NEW_PASSWORD = "ledger lantern orchard"
KOREAN = {"Accept-Language": "ko"}
TOO_MANY_KO = "로그인 실패가 너무 많습니다"


def post_login(client, email: str, password: str, address: str = "10.0.0.1", **kw):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address}, **kw)


def signed_in(client) -> bool:
    return client.get("/incidents/").status_code == 200


def saved_cookie(client) -> str:
    return client.get_cookie("session").value


def replay(app, cookie: str):
    """A second browser (an attacker's) holding a copy of a saved session cookie."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def assert_signed_out(client) -> None:
    page = client.get("/incidents/")
    assert (page.status_code, urlsplit(page.location).path) == (302, "/login")
    form = client.post("/incidents/new", data={"title": "Replayed", "grade": 1, "category": 0,
                                               "channel": ""})
    assert form.status_code == 401 and "You are signed out" in form.text


def incident_count() -> int:
    return db.session.scalar(select(func.count(Incident.id)))


def reason_of(response) -> list[str]:
    return re.findall(r'<p class="error"[^>]*>([^<]+)</p>', response.get_data(as_text=True))


# --- sessions end ---------------------------------------------------------------------------------

def test_a_cookie_saved_before_logout_is_dead_after_it(app, client, make_user):
    user = make_user("agent")
    assert post_login(client, user.email, PASSWORD).status_code == 302
    cookie = saved_cookie(client)
    assert signed_in(replay(app, cookie))  # a copy works while the session is open
    assert client.post("/logout").status_code == 302
    before = incident_count()
    assert_signed_out(replay(app, cookie))
    assert incident_count() == before
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert row.ended_at is not None


def test_only_a_hash_of_the_session_token_is_stored(client, make_user):
    user = make_user("agent")
    post_login(client, user.email, PASSWORD)
    with client.session_transaction() as session:
        token = session[SESSION_TOKEN]
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert len(token) >= 40 and token not in (row.token_hash, row.address, row.user_agent)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert (row.address, row.ended_at) == ("10.0.0.1", None)


def test_a_cookie_without_a_session_token_is_signed_out(app, make_user):
    user = make_user("agent")
    legacy = app.test_client()
    with legacy.session_transaction() as session:  # the shape of a cookie from before sessions
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    assert_signed_out(legacy)


def test_a_password_change_ends_other_sessions_but_not_ones_own(app, client, make_user):
    user = make_user("agent")
    phone, stolen = app.test_client(), app.test_client()
    for browser in (client, phone, stolen):
        assert post_login(browser, user.email, PASSWORD).status_code == 302
    cookie = saved_cookie(phone)
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert signed_in(client)
    assert_signed_out(phone)
    assert_signed_out(stolen)
    assert_signed_out(replay(app, cookie))
    fresh = app.test_client()
    assert post_login(fresh, user.email, PASSWORD).status_code == 401
    assert post_login(fresh, user.email, NEW_PASSWORD).status_code == 302


def test_a_password_change_needs_the_current_password(client, login):
    user = login("agent")
    response = client.post("/account/password", data={
        "current_password": "not my password", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 422
    assert "This is not your current password." in reason_of(response)
    db.session.refresh(user)
    assert user.check_password(PASSWORD)


def test_a_password_change_refuses_a_weak_password_and_keeps_every_session(app, client, make_user):
    user = make_user("agent")
    other = app.test_client()
    for browser in (client, other):
        post_login(browser, user.email, PASSWORD)
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "password": "password1234", "confirm": "password1234"})
    assert response.status_code == 422
    assert reason_of(response) == ["This is a very common password. Use three or four unrelated "
                                   "words, or a sentence only you would write."]
    assert signed_in(client) and signed_in(other)


@pytest.mark.parametrize("change", [{"role": "lead"}, {"password": NEW_PASSWORD}, {"active": ""}])
def test_an_admins_change_ends_all_of_that_users_sessions(change, app, client, login, make_user):
    login("admin")
    user = make_user("agent")
    browsers = [app.test_client(), app.test_client()]
    for browser in browsers:
        assert post_login(browser, user.email, PASSWORD).status_code == 302
    cookie = saved_cookie(browsers[0])
    form = {"name": user.name, "title": user.title, "email": user.email, "role": user.role.value,
            "active": "y", "password": "", **change}
    assert client.post(f"/admin/users/{user.id}", data={k: v for k, v in form.items() if v}) \
        .status_code == 302
    for browser in (*browsers, replay(app, cookie)):
        assert_signed_out(browser)
    assert signed_in(client)  # the admin's own session is untouched
    if change.get("active") == "":
        # Reactivating the account revives no old cookie.
        user.active = True
        db.session.commit()
        assert_signed_out(replay(app, cookie))


def test_an_admins_other_edits_leave_sessions_alone(app, client, login, make_user):
    login("admin")
    user = make_user("agent")
    browser = app.test_client()
    post_login(browser, user.email, PASSWORD)
    form = {"name": user.name, "title": "Senior agent", "email": user.email, "role": "agent",
            "active": "y"}
    assert client.post(f"/admin/users/{user.id}", data=form).status_code == 302
    assert signed_in(browser)


def test_ending_sessions_is_a_service_without_http(make_user):
    user = make_user("agent")
    mine, other = users.start_session(user), users.start_session(user)
    someone_else = users.start_session(make_user("agent"))
    users.end_sessions(user, keep_token=mine)
    db.session.flush()
    open_hashes = set(db.session.scalars(select(UserSession.token_hash)
                                         .where(UserSession.ended_at.is_(None))))
    assert open_hashes == {UserSession.hash(mine), UserSession.hash(someone_else)}
    assert UserSession.hash(other) not in open_hashes


def test_the_signed_in_user_is_loaded_with_one_statement(app, make_user):
    from flask import session

    from app.extensions import login_manager

    user = make_user("agent")
    user_id, token = user.id, users.start_session(user)
    db.session.commit()
    statements = []

    def count(_conn, _cursor, statement, *_args):
        if not statement.startswith(("BEGIN", "PRAGMA")):  # SQLite's own transaction control
            statements.append(statement.split()[0])

    with app.test_request_context("/"):
        session[SESSION_TOKEN] = token
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert login_manager._user_callback(str(user_id)).id == user_id
            users.end_session(token)
            assert login_manager._user_callback(str(user_id)) is None
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        db.session.rollback()
    assert statements == ["SELECT", "UPDATE", "SELECT"]  # load, end the session, load again


# --- failed sign-ins, counted where every worker sees them ---------------------------------------

@pytest.fixture
def workers(db_uri, tmp_path, app_config):
    """Two more apps on the test's database, as two gunicorn workers are: each has its own
    process memory (its own engine and state), and a test client each."""
    built = []

    def make(**config):
        for n in range(2):
            built.append(build_app(db_uri, SEARCH_INDEX_DIR=str(tmp_path / f"search{n}"),
                                   **{**app_config, **config}))
        return [worker.test_client() for worker in built]
    yield make
    for worker in built:
        with worker.app_context():
            db.engine.dispose()


def alternate(clients, attempts: int, email: str, password: str = "wrong password", **kw):
    return [post_login(clients[n % len(clients)], email, password, **kw) for n in range(attempts)]


class TestFailureCount:
    @pytest.fixture
    def app_config(self):
        return {"LOGIN_RATE_LIMIT": "10 per hour"}

    def test_two_workers_on_one_database_count_together(self, workers, make_user):
        user = make_user("agent")
        answers = alternate(workers(), 30, user.email, headers=KOREAN)
        codes = [r.status_code for r in answers]
        assert codes == [401] * 10 + [429] * 20
        for refused in answers[10:]:
            assert 1 <= int(refused.headers["Retry-After"]) <= 3600
            assert TOO_MANY_KO in refused.text and 'lang="ko"' in refused.text
        db.session.rollback()  # a fresh look at what the workers wrote
        assert db.session.scalar(select(func.count(LoginFailure.id))) == 20  # refusals not counted

    def test_the_refusal_is_in_english_for_an_english_reader(self, client, make_user):
        user = make_user("agent")
        answers = alternate([client], 11, user.email, headers={"Accept-Language": "en"})
        assert answers[-1].status_code == 429
        assert "Too many failed sign-ins. Try again in" in answers[-1].text

    def test_successful_sign_ins_never_lock_a_team_out(self, app, client, make_user):
        people = [make_user("agent") for _ in range(30)]
        post_login(client, people[0].email, "a mistyped password")  # one slip on the way
        for person in people:
            browser = app.test_client()
            assert post_login(browser, person.email, PASSWORD, "203.0.113.7").status_code == 302
        for person in people:  # and again, the same people, all from the office's address
            assert post_login(app.test_client(), person.email, PASSWORD, "203.0.113.7") \
                .status_code == 302

    def test_an_account_is_counted_across_addresses(self, client, make_user):
        user, colleague = make_user("agent"), make_user("agent")
        for n in range(10):
            assert post_login(client, user.email, "wrong password", f"198.51.100.{n}") \
                .status_code == 401
        assert post_login(client, user.email, PASSWORD, "198.51.100.99").status_code == 429
        assert post_login(client, colleague.email, PASSWORD, "198.51.100.99").status_code == 302

    def test_an_address_is_counted_across_accounts(self, client, make_user):
        user = make_user("agent")
        for n in range(10):
            assert post_login(client, f"guess{n}@example.com", "wrong password").status_code == 401
        assert post_login(client, user.email, PASSWORD).status_code == 429
        assert post_login(client, user.email, PASSWORD, "10.9.9.9").status_code == 302
        assert client.get("/login").status_code in (200, 302)  # looking is never an attempt

    def test_a_success_clears_the_accounts_failures_not_the_addresss(self, app, make_user):
        user, other = make_user("agent"), make_user("agent")
        browser = app.test_client()
        for _ in range(9):
            post_login(browser, user.email, "wrong password", "10.0.0.5")
        assert post_login(browser, user.email, PASSWORD, "10.0.0.5").status_code == 302
        # The account starts afresh (from another address): nine more slips are allowed.
        for _ in range(9):
            assert post_login(app.test_client(), user.email, "wrong password", "10.0.0.6") \
                .status_code == 401
        # The address still holds its nine failures: one more and it is full.
        assert post_login(app.test_client(), other.email, "wrong password", "10.0.0.5") \
            .status_code == 401
        assert post_login(app.test_client(), other.email, PASSWORD, "10.0.0.5").status_code == 429

    def test_unknown_and_known_emails_get_the_same_answers(self, client, make_user):
        user = make_user("agent")
        known = alternate([client], 11, user.email, address="10.1.0.1")
        unknown = alternate([client], 11, "nobody@example.com", address="10.1.0.2")
        assert [r.status_code for r in known] == [r.status_code for r in unknown]
        assert reason_of(known[0]) == reason_of(unknown[0]) == ["E-mail or password is wrong."]
        assert known[-1].status_code == 429

        def page(response, email):
            return re.sub(r"<input[^>]*csrf_token[^>]*>", "", response.text.replace(email, "X"))
        assert page(known[-1], user.email) == page(unknown[-1], "nobody@example.com")

    def test_guesses_at_the_current_password_count_as_failed_sign_ins(self, app, client, login):
        user = login("agent")
        change = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        for n in range(10):
            response = client.post("/account/password",
                                   data={"current_password": f"guess {n}", **change})
            assert response.status_code == 422
        response = client.post("/account/password", data={"current_password": PASSWORD, **change})
        assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1
        assert "Too many failed sign-ins" in response.text
        assert post_login(app.test_client(), user.email, PASSWORD, "10.6.0.1").status_code == 429
        db.session.refresh(user)
        assert user.check_password(PASSWORD)

    def test_the_wait_is_until_the_oldest_counted_failure_leaves_the_window(self, client,
                                                                            make_user, monkeypatch):
        now = utcnow()
        monkeypatch.setattr("app.signin_limits.utcnow", lambda: now)
        user = make_user("agent")
        account, _address = failure_keys(user.email, "10.0.0.1")
        db.session.add_all([LoginFailure(key=account, failed_at=now - timedelta(minutes=m))
                            for m in (50, 30, 20, 10, 5, 4, 3, 2, 1, 0)])
        db.session.commit()
        response = post_login(client, user.email, PASSWORD, "10.2.0.1")
        assert response.status_code == 429
        assert response.headers["Retry-After"] == str(10 * 60)  # the one from 50 minutes ago

    def test_old_failures_are_pruned_and_not_counted(self, client, make_user):
        user = make_user("agent")
        account, address = failure_keys(user.email, "10.0.0.1")
        old = utcnow() - timedelta(hours=2)
        db.session.add_all([LoginFailure(key=key, failed_at=old) for key in (account, address)
                            for _ in range(20)])
        db.session.add(LoginFailure(key="somebody else's", failed_at=old))
        db.session.commit()
        assert post_login(client, user.email, "wrong password").status_code == 401
        rows = db.session.scalars(select(LoginFailure)).all()
        assert len(rows) == 2 and all(as_utc(r.failed_at) > old for r in rows)  # the new failure


class TestRedis:
    """RATELIMIT_STORAGE_URI naming Redis: the count lives there, shared by every worker."""

    @pytest.fixture
    def prefix(self):
        import redis

        prefix = f"test-signin-{uuid.uuid4().hex}"
        yield prefix
        server = redis.Redis.from_url("redis://127.0.0.1:6379/0")
        for key in server.scan_iter(f"*{prefix}*"):
            server.delete(key)
        server.close()

    @pytest.fixture
    def app_config(self, prefix):
        return {"LOGIN_RATE_LIMIT": "10 per hour", "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
                "RATELIMIT_KEY_PREFIX": prefix}

    def test_two_workers_count_together_in_redis(self, workers, make_user, prefix):
        import redis

        user, colleague = make_user("agent"), make_user("agent")
        clients = workers()
        answers = alternate(clients, 30, user.email, headers=KOREAN)
        assert [r.status_code for r in answers] == [401] * 10 + [429] * 20
        assert all(TOO_MANY_KO in r.text and 1 <= int(r.headers["Retry-After"]) <= 3600
                   for r in answers[10:])
        db.session.rollback()
        assert db.session.scalar(select(func.count(LoginFailure.id))) == 0  # none in the database
        server = redis.Redis.from_url("redis://127.0.0.1:6379/0")
        assert list(server.scan_iter(f"*{prefix}*"))
        server.close()
        # Another account from another address is not held up by this one.
        assert post_login(clients[1], colleague.email, PASSWORD, "10.3.0.1").status_code == 302

    def test_in_redis_a_success_clears_the_account_and_successes_are_free(self, workers,
                                                                          make_user):
        user = make_user("agent")
        team = [make_user("agent").email for _ in range(12)]
        db.session.commit()  # no read left open here while the workers write
        first, second = workers()
        alternate([first, second], 9, user.email, address="10.4.0.1")
        assert post_login(second, user.email, PASSWORD, "10.4.0.2").status_code == 302
        second.post("/logout")
        assert [r.status_code for r in alternate([first, second], 10, user.email,
                                                  address="10.4.0.3")] == [401] * 10
        assert post_login(first, user.email, "wrong password", "10.4.0.4").status_code == 429
        for n, email in enumerate(team):
            browser = (first, second)[n % 2]
            assert post_login(browser, email, PASSWORD, "10.4.0.9").status_code == 302
            browser.post("/logout")


# --- the same work for every wrong answer ---------------------------------------------------------

def test_every_failed_sign_in_checks_a_password_of_the_same_kind(client, make_user, monkeypatch):
    import app.models
    import app.users

    user = make_user("agent")
    inactive = make_user("agent")
    inactive.active = False
    db.session.commit()
    checked: list[str] = []

    def spy(real):
        def check(pwhash, password):
            checked.append(pwhash)
            return real(pwhash, password)
        return check

    monkeypatch.setattr(app.users, "check_password_hash", spy(app.users.check_password_hash))
    monkeypatch.setattr(app.models, "check_password_hash", spy(app.models.check_password_hash))
    method = user.password_hash.rsplit("$", 2)[0]  # e.g. "scrypt:32768:8:1"
    for email, address in ((user.email, "10.5.0.1"), ("nobody@example.com", "10.5.0.2"),
                           (inactive.email, "10.5.0.3"), ("NOBODY@example.com", "10.5.0.4")):
        checked.clear()
        assert post_login(client, email, "wrong password", address).status_code == 401
        assert len(checked) == 1, email
        assert checked[0].rsplit("$", 2)[0] == method, email
    # The stand-in hash for unknown e-mails matches no password, not even an empty one.
    assert users.authenticate("nobody@example.com", "") is None


def test_an_inactive_account_with_its_right_password_is_refused_like_any_other(client, make_user):
    user = make_user("agent")
    user.active = False
    db.session.commit()
    response = post_login(client, user.email, PASSWORD)
    assert response.status_code == 401
    assert reason_of(response) == ["E-mail or password is wrong."]


# --- passwords a guesser tries first ----------------------------------------------------------------

WEAK = [
    ("password1234", "This is a very common password."),
    ("monkey202420", "A word with a few digits or symbols is easy to guess."),
    ("asdfghjkl;'", "Rows of neighbouring keys, like qwerty or asdf, are easy to guess."),
    ("abcabcabcabc", "Repeated characters or words, like aaaa or abcabc, are easy to guess."),
    ("abcdefghij12", "Sequences like abcd or 6543 are easy to guess."),
    ("minji.kim1990", "It contains your name, your e-mail address or the name of this site."),
    ("KimMinji!!!!", "It contains your name, your e-mail address or the name of this site."),
    ("incidentbook1", "It contains your name, your e-mail address or the name of this site."),
]
WEAK_KO = {
    "This is a very common password.": "아주 흔한 비밀번호입니다.",
    "It contains your name, your e-mail address or the name of this site.":
        "이름, 이메일 주소 또는 이 사이트의 이름이 들어 있습니다.",
}
ADVICE = "Use three or four unrelated words, or a sentence only you would write."
ADVICE_KO = "서로 관계없는 단어 서너 개나, 나만 쓸 만한 문장을 쓰세요."


@pytest.mark.parametrize(("password", "reason"), WEAK)
def test_weak_passwords_are_refused_with_the_reason(password, reason, app):
    with app.test_request_context("/"), pytest.raises(ValidationFailed) as refused:
        users.create_user(email="minji.kim@example.com", name="Kim Minji", title="CX Lead",
                          role=Role.agent, password=password)
    assert refused.value.fields["password"] == f"{reason} {ADVICE}"
    assert db.session.scalar(select(func.count(User.id))) == 0


@pytest.mark.parametrize("password", [PASSWORD, NEW_PASSWORD, DEMO_PASSWORD, "김민지의 출근길 커피 두 잔"])
def test_good_passwords_pass(password, app):
    assert users.password_problem(password, name="Kim Minji", email="minji.kim@example.com") is None


def test_long_passwords_are_judged_without_error(app):
    with app.test_request_context("/"):
        assert users.password_problem("orchard lantern ledger " * 8, name="A B",
                                      email="a@example.com") is None
        assert users.password_problem("a" * 200, name="A B", email="a@example.com").startswith(
            "Repeated characters or words")


def test_the_demo_password_passes_for_every_demo_person(app):
    for person in TEAM:
        assert users.password_problem(DEMO_PASSWORD, name=person.name, email=person.email) is None


def test_first_run_explains_a_weak_password_in_korean(client):
    form = {"email": "founder@example.com", "name": "Founder", "title": "CEO",
            "password": "password1234", "confirm": "password1234"}
    response = client.post("/setup", data=form, headers=KOREAN)
    assert f"{WEAK_KO['This is a very common password.']} {ADVICE_KO}" in reason_of(response)
    assert db.session.scalar(select(func.count(User.id))) == 0
    english = client.post("/setup", data=form, headers={"Accept-Language": "en"})
    assert f"This is a very common password. {ADVICE}" in reason_of(english)


def test_the_admin_page_refuses_weak_passwords_on_creation_and_reset(client, login, make_user):
    login("admin")
    form = {"name": "Park Seoyeon", "title": "CX agent", "email": "seoyeon.park@example.com",
            "role": "agent", "password": "seoyeon2024!"}
    response = client.post("/admin/users/new", data=form, headers=KOREAN)
    assert response.status_code == 422
    reason = "It contains your name, your e-mail address or the name of this site."
    assert f"{WEAK_KO[reason]} {ADVICE_KO}" in reason_of(response)
    user = make_user("agent")
    reset = {"name": user.name, "title": user.title, "email": user.email, "role": "agent",
             "active": "y", "password": "password1234"}
    response = client.post(f"/admin/users/{user.id}", data=reset)
    assert response.status_code == 422
    assert f"This is a very common password. {ADVICE}" in reason_of(response)
    db.session.refresh(user)
    assert user.check_password(PASSWORD)


def test_the_cli_refuses_a_weak_password_and_says_why(runner):
    result = runner.invoke(args=["users", "create", "kim@example.com", "--name", "Kim Minji",
                                 "--title", "Lead", "--password", "password1234"])
    assert result.exit_code != 0
    assert "This is a very common password." in result.output
    assert db.session.scalar(select(func.count(User.id))) == 0
    result = runner.invoke(args=["users", "create", "kim@example.com", "--name", "Kim Minji",
                                 "--title", "Lead", "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output
