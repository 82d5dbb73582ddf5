"""Command-line tools: `flask --app wsgi users ...`, `demo`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app import users as user_services
from app.errors import DomainError
from app.extensions import db
from app.models import Role

users = AppGroup("users", help="Create users and issue API tokens.")


def _fail(err: DomainError) -> None:
    db.session.rollback()
    details = "; ".join(f"{k}: {v}" for k, v in err.fields.items())
    raise click.ClickException(err.message + (f" ({details})" if details else ""))


@users.command("create")
@click.argument("email")
@click.option("--name", required=True, help="Full name, as it signs letters.")
@click.option("--title", required=True, help="Job title.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.agent.value,
              show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user(email, name, title, role, password):
    """Create a user who can sign in."""
    try:
        user = user_services.create_user(email=email, name=name, title=title, role=Role(role),
                                         password=password)
    except DomainError as err:
        _fail(err)
    db.session.commit()
    click.echo(f"Created {user.email} ({user.role.value}).")


@users.command("token")
@click.argument("email")
def create_token(email):
    """Print a new API token for EMAIL (shown once; only its hash is stored)."""
    try:
        token = user_services.issue_token(email)
    except DomainError as err:
        _fail(err)
    db.session.commit()
    click.echo(token)


@click.command("demo")
@click.option("--password", default=None,
              help="Password for the demo users that get created (default: app.demo's).")
def demo(password):
    """Load a bilingual demo data set (users and incidents in Korean and English)."""
    from app.demo import DEMO_PASSWORD, load_demo

    try:
        summary = load_demo(password or DEMO_PASSWORD)
    except DomainError as err:  # e.g. a --password that is too easy to guess
        _fail(err)
    db.session.commit()
    click.echo(summary)


@click.command("escalations")
def escalations():
    """Escalate incidents not shared within their grade's target (run every minute by cron)."""
    from incidents.escalation.services import run_escalations

    count = run_escalations()
    db.session.commit()
    click.echo(f"{count} escalation(s).")


def init_app(app: Flask) -> None:
    from playbooks.cli import playbooks, search_group

    app.cli.add_command(users)
    app.cli.add_command(demo)
    app.cli.add_command(escalations)
    app.cli.add_command(playbooks)
    app.cli.add_command(search_group)
