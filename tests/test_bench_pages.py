"""The bench's sweep of pages (bench/pages_bench.py) keeps up with the app's URL map."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import pages_bench  # noqa: E402  (bench/ is not a package)


def _web_get_endpoints(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules()
            if "GET" in rule.methods and not rule.rule.startswith("/api/")}


def test_every_page_of_the_web_ui_is_swept_or_said_why_not(app):
    swept = {endpoint for endpoint, _path, _why in pages_bench.PAGES}
    assert not swept & set(pages_bench.NOT_SWEPT), "both swept and said not to be"
    missing = _web_get_endpoints(app) - swept - set(pages_bench.NOT_SWEPT)
    assert not missing, f"add these pages to bench/pages_bench.py PAGES: {sorted(missing)}"
    unknown = (swept | set(pages_bench.NOT_SWEPT)) - _web_get_endpoints(app)
    assert not unknown, f"no longer pages of the app: {sorted(unknown)}"


def test_every_sample_a_page_needs_is_defined():
    for _endpoint, path, _why in pages_bench.PAGES:
        path.format(**{name: 1 for name in pages_bench.SAMPLES})  # KeyError names the gap


def test_every_sample_query_runs_on_the_schema(app):
    # The bench runs them on its own file; here they meet the migrated schema (and any typo).
    from sqlalchemy import text

    from app.extensions import db

    for sql in pages_bench.SAMPLES.values():
        db.session.execute(text(sql)).all()
        db.session.rollback()
