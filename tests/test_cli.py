"""Command-line tools: `users create`, `users token`, `db upgrade`."""

from __future__ import annotations

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text

from app import PROJECT_ROOT
from app.extensions import db
from app.models import ApiToken, Role, User


def test_users_create(runner):
    result = runner.invoke(args=["users", "create", "Ops.Lead@Example.com", "--name", "한소희",
                                 "--title", "운영 팀장", "--role", "lead",
                                 "--password", "a long enough password"])
    assert result.exit_code == 0, result.output
    assert "Created ops.lead@example.com (lead)." in result.output
    user = db.session.scalar(select(User).where(User.email == "ops.lead@example.com"))
    assert (user.name, user.title, user.role, user.active) == ("한소희", "운영 팀장", Role.lead, True)
    assert user.check_password("a long enough password")


def test_users_create_defaults_to_agent_and_prompts_for_the_password(runner):
    result = runner.invoke(args=["users", "create", "agent@example.com", "--name", "A", "--title", "B"],
                           input="prompted password\nprompted password\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "agent@example.com"))
    assert user.role == Role.agent and user.check_password("prompted password")


def test_users_create_refuses_a_duplicate(runner, make_user):
    make_user("agent", email="taken@example.com")
    result = runner.invoke(args=["users", "create", "TAKEN@example.com", "--name", "X", "--title", "Y",
                                 "--password", "a long enough password"])
    assert result.exit_code != 0
    assert "A user with this e-mail already exists." in result.output
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_users_create_refuses_bad_input(runner):
    short = runner.invoke(args=["users", "create", "x@example.com", "--name", "X", "--title", "Y",
                                "--password", "short"])
    assert short.exit_code != 0 and "password" in short.output.lower()
    bad_email = runner.invoke(args=["users", "create", "not-an-email", "--name", "X", "--title", "Y",
                                    "--password", "a long enough password"])
    assert bad_email.exit_code != 0 and "email" in bad_email.output
    bad_role = runner.invoke(args=["users", "create", "y@example.com", "--name", "X", "--title", "Y",
                                   "--role", "king", "--password", "a long enough password"])
    assert bad_role.exit_code != 0
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_users_token_prints_a_working_token(runner, client, make_user):
    user = make_user("agent")
    result = runner.invoke(args=["users", "token", user.email])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("ib_") and "\n" not in token
    response = client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    created = client.post("/api/v1/incidents", json={"title": "from the CLI token", "grade": "Green"},
                          headers={"Authorization": f"Bearer {token}"})
    assert created.status_code == 201
    assert created.json["reporter"]["email"] == user.email
    stored = db.session.scalar(select(ApiToken))
    assert stored.token_hash != token and token not in stored.token_hash


def test_users_token_for_an_unknown_email_fails(runner):
    result = runner.invoke(args=["users", "token", "ghost@example.com"])
    assert result.exit_code != 0
    assert "ghost@example.com" in result.output
    assert db.session.scalar(select(func.count(ApiToken.id))) == 0


def test_each_token_call_issues_a_new_token(runner, make_user):
    user = make_user("viewer")
    first = runner.invoke(args=["users", "token", user.email]).output.strip()
    second = runner.invoke(args=["users", "token", user.email]).output.strip()
    assert first != second
    assert db.session.scalar(select(func.count(ApiToken.id))) == 2


def test_db_upgrade_is_what_built_the_test_database(runner, app):
    tables = set(inspect(db.engine).get_table_names())
    assert {"users", "api_tokens", "grades", "categories", "incidents", "timeline_events",
            "affected_customers", "incident_responders", "alembic_version"} <= tables
    result = runner.invoke(args=["db", "upgrade"])  # already at head: a no-op, not an error
    assert result.exit_code == 0, result.output
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert db.session.scalars(text("SELECT version_num FROM alembic_version")).all() == heads
