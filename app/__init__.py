"""Application factory: wiring only, no migrations, network or sleeping."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"),
                instance_path=str(PROJECT_ROOT / "instance"))
    from app.config import load_config

    app.config.update(load_config(app.instance_path, config))
    register_routing(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_routing(app: Flask) -> None:
    from app import bounds, https

    bounds.install(app)
    https.install(app)


def register_extensions(app: Flask) -> None:
    from app import auth, database, i18n, search, templating
    from app.extensions import csrf, db, migrate

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    i18n.init_app(app)
    templating.init_app(app)
    search.init_app(app)
    auth.init_app(app)


def register_blueprints(app: Flask) -> None:
    from app import admin, api, auth, health
    from incidents import api as incidents_api
    from incidents import views as incidents_views
    from incidents.apology import api as apology_api
    from incidents.apology import views as apology_views
    from incidents.compensation import api as compensation_api
    from incidents.compensation import views as compensation_views
    from incidents.dashboard import api as dashboard_api
    from incidents.dashboard import views as dashboard_views
    from incidents.escalation import api as escalation_api
    from incidents.escalation import views as escalation_views
    from incidents.postmortem import api as postmortem_api
    from incidents.postmortem import views as postmortem_views
    from playbooks import api as playbooks_api
    from playbooks import views as playbooks_views

    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(incidents_views.bp)
    app.register_blueprint(incidents_views.root)
    app.register_blueprint(compensation_views.bp)
    app.register_blueprint(apology_views.bp)
    app.register_blueprint(postmortem_views.bp)
    app.register_blueprint(playbooks_views.bp)
    app.register_blueprint(escalation_views.bp)
    app.register_blueprint(dashboard_views.bp)
    escalation_views.init_app(app)
    api.register(app, [incidents_api.bp, compensation_api.bp, apology_api.bp, postmortem_api.bp,
                       playbooks_api.bp, escalation_api.bp, dashboard_api.bp])


def register_errorhandlers(app: Flask) -> None:
    from app import errorpages

    errorpages.init_app(app)


def register_commands(app: Flask) -> None:
    from app import cli

    cli.init_app(app)
