"""`flask playbooks import|export` (JSON Lines) and `flask search reindex`."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app import search
from app.extensions import db
from playbooks import services

playbooks = AppGroup("playbooks", help="Import and export playbooks as JSON Lines.")
search_group = AppGroup("search", help="Maintain the search index.")


@playbooks.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
def import_(path):
    """Import FILE.jsonl (one playbook per line); all lines or none."""
    with click.open_file(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    try:
        created = services.import_lines(lines)
    except services.ImportFailed as err:
        db.session.rollback()
        for number, message in err.problems:
            click.echo(f"line {number}: {message}", err=True)
        raise click.ClickException(f"{len(err.problems)} bad line(s); nothing was imported.") from None
    db.session.commit()
    search.apply_pending()
    click.echo(f"Imported {len(created)} playbook(s).")


@playbooks.command("export")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default="-",
              help="File to write (default: standard output).")
def export(output):
    """Write every published playbook as one JSON object per line."""
    with click.open_file(output, "w", encoding="utf-8") as handle:
        for line in services.export_lines():
            handle.write(line + "\n")
    if output != "-":
        click.echo(f"Wrote {output}", err=True)


@search_group.command("reindex")
def reindex():
    """Rebuild the search index from the database (written aside, then swapped in)."""
    count = search.rebuild()
    click.echo(f"Indexed {count} document(s).", file=sys.stderr)
