"""Readers opening the index while another process commits and merges segments.

A commit deletes the files its new table of contents no longer names: after a merge, those
of the segments merged away. A reader that had read the old table but not yet opened those
files failed: a search answered 500 with a TypeError in stored_fields (Whoosh takes a missing
column file for an absent column and returns None), or a FileNotFoundError. Here a writer
process publishes through the outbox and merges after nearly every commit, while reader
threads in this process and a reader in another process open a fresh searcher for every
search; every search must succeed and see a state the writer committed.

The readers never touch the database: the writer applies each change before the next, so
nothing they could apply is pending, and `pending_count` is pinned at 0 to keep them off
SQLite's file lock, which the writer takes for every change.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
import traceback
from pathlib import Path

from app import search

ROOT = Path(__file__).resolve().parents[2]
COMMITS = 40  # each followed by merge_segments(), with MERGE_FACTOR 2 in the writer
DISTINCT = 30  # documents: later commits update them, so segments carry deletions too
QUERY = "refund delayed 환불"
# Between searches, so that on a small machine the readers leave the writer some CPU.
READER_PAUSE = 0.002

# Both children import the app first, then wait for the go file, so that neither the writer
# nor the readers start while the others are still importing.
PRELUDE = """
import json, os, sys, time
from app import create_app, search
from app.extensions import db

app = create_app({"TESTING": True, "SECRET_KEY": "race-test"})


def wait_for(path):
    print("ready", flush=True)
    while not os.path.exists(path):
        time.sleep(0.01)
"""

# Publishes through the outbox as a request does: apply_pending, then the merge that follows
# the response.
WRITER = PRELUDE + """
from app.models import IndexChange

go_file, commits, distinct = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
search.MERGE_FACTOR = 2


def document(n):
    return search.Document(type="stress", id=n, title=f"Refund delayed {n}",
                           body=f"Parcel {n} was refunded late. 환불 {n}건이 지연되었습니다.",
                           tags=["refund"])


search.register("stress", lambda ids: {i: document(i) for i in ids},
                lambda: (document(i) for i in range(distinct)))
wait_for(go_file)
with app.app_context():
    for n in range(commits):
        db.session.add(IndexChange(doc_type="stress", doc_id=n % distinct))
        db.session.commit()
        assert search.apply_pending(timeout=30) == 1
        search.merge_segments(timeout=30)
print("done", flush=True)
"""

# Reads every file from disk (the threads here hold small files in memory), so that both
# ways _Storage opens a file meet the writer's deletions.
READER = PRELUDE + """
from tests.search.test_reader_merge_race import read_until

go_file, stop_file = sys.argv[1], sys.argv[2]
search.pending_count = lambda: 0
search._Storage.IN_MEMORY_BYTES = -1
wait_for(go_file)
with app.app_context():
    report = read_until(lambda: os.path.exists(stop_file))
print(json.dumps(report), flush=True)
"""


def read_until(stop) -> dict:
    """Search with a freshly opened searcher until `stop()`; what was seen and what failed."""
    mine = (str(search._root()), threading.get_ident())
    searches, last_total, errors = 0, 0, []
    while not stop() and len(errors) < 5:
        search.close_searchers(mine)  # this thread's only: the others may be mid-search
        try:
            results = search.search(QUERY, per_page=2 * DISTINCT)
            ids = [hit.id for hit in results.hits]
            # Every committed state holds each document published so far exactly once, and a
            # reader never sees an older state after a newer one.
            assert len(ids) == len(set(ids)) == results.total, (ids, results.total)
            assert results.total >= last_total, (results.total, last_total)
            assert all(hit.title == f"Refund delayed {hit.id}" for hit in results.hits)
            last_total = results.total
            searches += 1
        except Exception:  # noqa: BLE001 - collected and reported by the test
            errors.append(traceback.format_exc())
        time.sleep(READER_PAUSE)
    return {"searches": searches, "last_total": last_total, "errors": errors}


def start(tmp_path: Path, name: str, source: str, env: dict, *args: str) -> subprocess.Popen:
    script = tmp_path / f"{name}.py"
    script.write_text(textwrap.dedent(source), encoding="utf-8")
    return subprocess.Popen([sys.executable, str(script), *args], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_readers_open_safely_while_another_process_merges(app, tmp_path, sqlite_template,
                                                          monkeypatch):
    database = tmp_path / "writer.db"
    shutil.copy(sqlite_template, database)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}",
           "SEARCH_INDEX_DIR": app.config["SEARCH_INDEX_DIR"], "PYTHONPATH": str(ROOT),
           "SECRET_KEY": "race-test"}
    env.pop("TEST_DATABASE_URL", None)
    monkeypatch.setattr(search, "pending_count", lambda: 0)
    search.searcher()  # the index exists before anyone reads it
    go_file, stop_file = tmp_path / "go", tmp_path / "stop"
    reader = start(tmp_path, "reader", READER, env, str(go_file), str(stop_file))
    writer = start(tmp_path, "writer", WRITER, env, str(go_file), str(COMMITS), str(DISTINCT))
    stop = threading.Event()
    reports: list[dict] = []

    def read():
        with app.app_context():
            reports.append(read_until(stop.is_set))

    threads = [threading.Thread(target=read) for _ in range(3)]
    try:
        for child in (reader, writer):
            ready = child.stdout.readline().strip()
            assert ready == "ready", child.communicate(timeout=30)[1]
        for thread in threads:
            thread.start()
        go_file.touch()
        out, err = writer.communicate(timeout=120)
    finally:
        stop.set()
        stop_file.touch()
        go_file.touch()  # lets a child that is still waiting run into the stop file
        for thread in threads:
            if thread.ident is not None:
                thread.join(timeout=60)
        try:
            reader_out, reader_err = reader.communicate(timeout=60)
        finally:
            for child in (reader, writer):
                if child.poll() is None:
                    child.kill()
                    child.wait()
    assert writer.returncode == 0, err
    assert out.strip() == "done"
    assert reader.returncode == 0, reader_err
    reports.append(json.loads(reader_out))

    errors = [error for report in reports for error in report["errors"]]
    assert not errors, f"{len(errors)} failed searches, the first:\n{errors[0]}"
    assert len(reports) == 4 and all(report["searches"] for report in reports), reports
    search.close_searchers()
    results = search.search(QUERY, per_page=2 * DISTINCT)
    assert sorted(hit.id for hit in results.hits) == list(range(DISTINCT))


def index_files() -> set[str]:
    """The table of contents and segment files of the live index (not its lock files)."""
    return {p.name for p in search._current_dir().iterdir() if "MAIN_" in p.name and "." in p.name}


def test_a_commit_while_a_reader_opens_leaves_its_deletions_to_the_next(publish, monkeypatch):
    monkeypatch.setattr(search, "READERS_BARRIER_SECONDS", 0.0)
    for n in range(search.MERGE_FACTOR):
        publish(f"Refund delayed {n}", summary="refund")
    before = index_files()
    with search._reading(search._root() / search.READERS_LOCK):  # a reader mid-open
        assert search.merge_segments() == search.MERGE_FACTOR
        # The merge is committed, but the files the reader may be about to open stay.
        assert len(search.searcher().reader().leaf_readers()) == 1
        assert before < index_files()
    publish("Refund delayed again", summary="refund")  # no reader opening: cleans up after both
    assert not before & index_files()
    assert search.search("refund").total == search.MERGE_FACTOR + 1


def test_a_rebuild_while_a_reader_opens_leaves_the_old_directory_to_the_next(publish,
                                                                             monkeypatch):
    monkeypatch.setattr(search, "READERS_BARRIER_SECONDS", 0.0)
    publish("Refund delayed", summary="refund")
    old = search._current_dir()
    with search._reading(search._root() / search.READERS_LOCK):
        assert search.rebuild() == 1
        assert search._current_dir() != old and old.exists()
    assert search.rebuild() == 1
    assert sorted(search._root().glob("index-*")) == [search._current_dir()]
    assert search.search("refund").total == 1
