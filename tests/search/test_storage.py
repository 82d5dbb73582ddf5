"""How the index sits on disk and in each worker: never copied whole into a process.

Whoosh's default compound segment file is opened as BytesIO over an mmap, which copies it:
each gunicorn worker held the whole index privately (540 MB at 100,000 playbooks). These
tests pin the layout and the reading that keep a worker's memory to what it uses.
"""

from __future__ import annotations

import threading

from whoosh.filedb.structfile import BufferFile
from whoosh.index import FileIndex

from app import search


def _current_files():
    return sorted(p for p in search._current_dir().iterdir() if p.is_file())


def test_segments_are_written_as_separate_files(app, publish):
    for n in range(3):
        publish(f"Refund delayed {n}", summary="Card refunds took a week.")
    names = [p.name for p in _current_files()]
    assert any(n.endswith(".pst") for n in names) and any(n.endswith(".trm") for n in names)
    assert not [n for n in names if n.endswith(".seg")], names  # no compound file


def test_a_full_rebuild_writes_separate_files_too(app, publish):
    publish("배송 지연", summary="배송이 지연되었습니다.")
    assert search.rebuild() == 1
    assert not [p for p in _current_files() if p.name.endswith(".seg")]


def test_large_files_are_read_from_disk_and_small_ones_held(app, publish, monkeypatch):
    publish("Payment failure", summary="결제 오류로 주문이 실패했습니다.")
    storage = search._Storage(str(search._current_dir()))
    files = _current_files()
    biggest = max(files, key=lambda p: p.stat().st_size)
    monkeypatch.setattr(search._Storage, "IN_MEMORY_BYTES", biggest.stat().st_size - 1)
    large = storage.open_file(biggest.name)
    assert not isinstance(large, BufferFile)  # a real file: the page cache holds its bytes
    assert large.get(0, 4) == biggest.read_bytes()[:4]
    large.close()
    smallest = min(files, key=lambda p: p.stat().st_size)
    small = storage.open_file(smallest.name)
    assert isinstance(small, BufferFile)
    assert small.get(0, smallest.stat().st_size) == smallest.read_bytes()


def test_search_works_when_every_file_is_read_from_disk(app, publish, monkeypatch):
    monkeypatch.setattr(search._Storage, "IN_MEMORY_BYTES", -1)
    publish("환불 지연 안내", summary="카드 환불이 일주일 걸렸습니다.")
    publish("Login outage", summary="Customers could not sign in.")
    assert [h.title for h in search.search("환불받지").hits] == ["환불 지연 안내"]
    assert [h.title for h in search.search("signing in").hits] == ["Login outage"]


def test_each_thread_searches_with_its_own_searcher(app, publish, monkeypatch):
    """Reads from disk seek then read on one file object: threads must not share it."""
    monkeypatch.setattr(search._Storage, "IN_MEMORY_BYTES", -1)
    for n in range(20):
        publish(f"Refund case {n}", summary=f"Refund number {n} was late. 환불 {n}건 지연.")
    results, searchers, errors = [], set(), []

    def work():
        try:
            with app.app_context():
                searchers.add(id(search.searcher()))
                for _ in range(20):
                    results.append(search.search("refunded 환불", per_page=50).total)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert set(results) == {20} and len(results) == 80
    assert len(searchers) == 4


def test_an_index_from_an_older_version_is_flagged(app, tmp_path, caplog):
    from whoosh.fields import TEXT, Schema

    old = FileIndex.create(search._Storage(str(tmp_path)), Schema(
        **{**dict(search.SCHEMA.items()), "body": TEXT(stored=True)}), search.INDEX_NAME)
    writer = old.writer()
    writer.add_document(key="playbook:1", type="playbook", title="t", body="b")
    writer.commit()
    assert search._outdated(search._index(tmp_path))
    with caplog.at_level("WARNING"):
        search._open(tmp_path)
        search._open(tmp_path)
    assert sum("search reindex" in r.getMessage() for r in caplog.records) == 1
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    writer = search._index(fresh, create=True).writer(**search.WRITER_OPTIONS)
    writer.add_document(key="playbook:1", type="playbook", title="t", body="b")
    writer.commit()
    assert not search._outdated(search._index(fresh))
