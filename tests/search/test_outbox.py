"""The outbox keeps the index right when a process dies after its commit, when rows are
replayed, and when two processes write at once.

The subprocess tests run real separate Python processes against a temporary SQLite file
(migrated from the session's template) and a temporary index directory, whatever
TEST_DATABASE_URL says: they are SQLite-only by design, since PostgreSQL's shared `test`
database is reset by other suites and a killed process is the point of the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from app import create_app, search
from app.extensions import db
from app.models import IndexChange
from playbooks import services as playbook_services
from playbooks.models import Playbook
from tests.search.conftest import indexed_keys

ROOT = Path(__file__).resolve().parents[2]

# Shared by the child scripts: an app on DATABASE_URL / SEARCH_INDEX_DIR from the environment.
PRELUDE = """
import os, sys, time
from app import create_app, search
from app.extensions import db
from playbooks import services

app = create_app({"TESTING": True, "SECRET_KEY": "outbox-test"})
"""

CRASH_AFTER_COMMIT = PRELUDE + """
def die(*args, **kwargs):
    os._exit(1)  # the process is killed after its commit, before the index is written

search.apply_pending = die
with app.app_context():
    data = services.PlaybookData(title=sys.argv[1], summary="Written just before the crash.",
                                 language="en")
    playbook, _removed = services.publish_new(None, data)
    db.session.commit()
    print(playbook.id, flush=True)
    search.apply_pending()
    print("still alive", flush=True)
"""

WRITER = PRELUDE + """
prefix, count, start_at = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
with app.app_context():
    while time.time() < start_at:  # both writers start together
        time.sleep(0.005)
    for n in range(count):
        data = services.PlaybookData(title=f"{prefix} concurrent playbook {n:02d}",
                                     summary=f"Written by {prefix} while another process writes.",
                                     language="en")
        services.publish_new(None, data)
        db.session.commit()
        search.apply_pending()
    print("done", flush=True)
"""


@pytest.fixture
def shared_store(tmp_path, sqlite_template):
    """A migrated SQLite file and an index directory that child processes can share."""
    database = tmp_path / "shared.db"
    shutil.copy(sqlite_template, database)
    index_dir = tmp_path / "shared-index"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}",
           "SEARCH_INDEX_DIR": str(index_dir), "PYTHONPATH": str(ROOT),
           "SECRET_KEY": "outbox-test"}
    env.pop("TEST_DATABASE_URL", None)
    return env


def run_script(tmp_path: Path, name: str, source: str, env: dict, *args: str,
               wait: bool = True):
    script = tmp_path / f"{name}.py"
    script.write_text(textwrap.dedent(source), encoding="utf-8")
    command = [sys.executable, str(script), *args]
    if wait:
        return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=120)
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def parent_app(env: dict):
    """An app in this process on the children's database and index."""
    return create_app({"TESTING": True, "SECRET_KEY": "outbox-test",
                       "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
                       "SEARCH_INDEX_DIR": env["SEARCH_INDEX_DIR"]})


def test_killed_between_commit_and_index_write(shared_store, tmp_path):
    title = "Refund approved seconds before the worker died"
    done = run_script(tmp_path, "crash", CRASH_AFTER_COMMIT, shared_store, title)
    assert done.returncode == 1, done.stderr
    assert "still alive" not in done.stdout
    playbook_id = int(done.stdout.split()[0])

    app = parent_app(shared_store)
    with app.app_context():
        try:
            # Committed, but not in the index: the change is still pending.
            assert db.session.get(Playbook, playbook_id).title == title
            assert search.pending_count() == 1
            assert f"playbook:{playbook_id}" not in indexed_keys()

            results = search.search("refunded worker died")  # applies what is pending
            assert [(h.type, h.id, h.title) for h in results.hits][:1] == [
                ("playbook", playbook_id, title)]
            assert search.pending_count() == 0
            assert indexed_keys().count(f"playbook:{playbook_id}") == 1
        finally:
            db.session.remove()
            db.engine.dispose()


def test_apply_pending_is_idempotent(app, publish):
    playbooks = [publish(f"Coupon not applied, case {n}", summary="쿠폰이 적용되지 않았습니다.")
                 for n in range(5)]
    expected = sorted(f"playbook:{p.id}" for p in playbooks)
    assert sorted(indexed_keys()) == expected
    assert search.pending_count() == 0

    # Replay every row, then again with the same document queued twice in one batch.
    for _round in range(2):
        db.session.execute(update(IndexChange).values(applied_at=None))
        search.enqueue("playbook", playbooks[0].id)
        db.session.commit()
        assert search.apply_pending() == db.session.scalar(select(func.count(IndexChange.id)))
        assert sorted(indexed_keys()) == expected
        assert search.pending_count() == 0

    hits = search.search("쿠폰 적용", per_page=50).hits
    assert sorted(h.id for h in hits) == sorted(p.id for p in playbooks)


def test_search_inside_a_writing_request_does_not_commit_its_work(app, publish):
    """Incident creation asks for similar playbooks before its commit: a search there must
    not apply pending rows, since that commits the caller's session half-done."""
    publish("Delivery delayed by snow", summary="Parcels were delayed.")
    search.enqueue("playbook", 999_999)  # a pending row, as after a crash
    db.session.commit()
    with app.test_request_context("/api/v1/incidents", method="POST"):
        unfinished = playbook_services.PlaybookData(title="Half-done delivery playbook",
                                                    language="en")
        playbook_services.publish_new(None, unfinished)
        assert search.search("delivery").total == 1
        db.session.rollback()  # the request fails after its search
    assert db.session.scalar(select(func.count(Playbook.id))) == 1
    assert search.pending_count() == 1
    assert search.search("delivery").total == 1  # outside a writing request it applies
    assert search.pending_count() == 0


def test_a_deleted_or_unpublished_record_leaves_the_index(app, publish):
    playbook = publish("Login fails after password reset", summary="Users cannot sign in.")
    assert search.search("login").total == 1
    db.session.delete(playbook.versions[0])
    db.session.delete(playbook)
    search.enqueue("playbook", playbook.id)
    db.session.commit()
    search.apply_pending()
    assert search.search("login").total == 0
    assert indexed_keys() == []


def test_two_processes_writing_at_once_leave_one_document_each(shared_store, tmp_path):
    per_writer = 25
    start_at = time.time() + 2.0  # time enough for both to import the app
    writers = [run_script(tmp_path, f"writer_{name}", WRITER, shared_store, name,
                          str(per_writer), str(start_at), wait=False) for name in ("alpha", "beta")]
    for writer in writers:
        out, err = writer.communicate(timeout=180)
        assert writer.returncode == 0, err
        assert out.strip() == "done"

    app = parent_app(shared_store)
    with app.app_context():
        try:
            search.apply_pending()
            assert search.pending_count() == 0
            ids = db.session.scalars(select(Playbook.id)).all()
            assert len(ids) == 2 * per_writer
            keys = indexed_keys()
            duplicates = [k for k, n in Counter(keys).items() if n > 1]
            assert duplicates == []
            assert sorted(keys) == sorted(f"playbook:{i}" for i in ids)
            for name in ("alpha", "beta"):
                assert search.search(name, per_page=50).total == per_writer
        finally:
            db.session.remove()
            db.engine.dispose()
