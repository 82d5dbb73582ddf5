"""Segment merging: never inside an update, after the response instead, by size tier."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from app import search
from tests.search.conftest import indexed_keys

LINE = {"title": "Login fails after an app update", "summary": "Users could not log in.",
        "symptoms": "Spinner forever.", "steps": "Ask for the app version.", "language": "en",
        "tags": ["login"]}


def segments() -> list[int]:
    return sorted(r.doc_count_all() for r, _base in search.searcher().reader().leaf_readers())


@dataclass
class Seg:
    live: int
    deleted: int = 0

    def doc_count(self) -> int:
        return self.live

    def doc_count_all(self) -> int:
        return self.live + self.deleted


@given(st.lists(st.tuples(st.integers(0, 50_000), st.integers(0, 500)), max_size=60))
def test_due_merges_groups_only_full_tiers_within_the_size_cap(sizes):
    segs = [Seg(live, deleted) for live, deleted in sizes]
    groups = search.due_merges(segs)
    grouped = [id(s) for group in groups for s in group]
    assert len(grouped) == len(set(grouped))
    for group in groups:
        assert len(group) >= search.MERGE_FACTOR
        assert len({search._tier(s.doc_count()) for s in group}) == 1
        assert sum(s.doc_count_all() for s in group) <= search.MERGE_MAX_DOCS
    # What is left waits for a tier to fill, or is too big for a merge after a response.
    left: dict[int, list[Seg]] = {}
    for s in segs:
        if id(s) not in grouped:
            left.setdefault(search._tier(s.doc_count()), []).append(s)
    for group in left.values():
        assert (len(group) < search.MERGE_FACTOR
                or sum(s.doc_count_all() for s in group) > search.MERGE_MAX_DOCS)


def test_tiers_are_powers_of_the_factor():
    f = search.MERGE_FACTOR
    assert [search._tier(n) for n in (0, 1, f - 1, f, f * f - 1, f * f)] == [0, 0, 0, 1, 1, 2]


def test_updates_do_not_merge_and_merging_keeps_every_document(publish):
    for i in range(search.MERGE_FACTOR + 1):
        publish(f"Refund delayed parcel {i}", summary="refund")
    assert segments() == [1] * (search.MERGE_FACTOR + 1)  # one per update, none merged yet
    assert search.merge_segments() == search.MERGE_FACTOR + 1
    assert segments() == [search.MERGE_FACTOR + 1]
    assert search.merge_segments() == 0  # nothing due: nothing written
    keys = indexed_keys()
    assert len(keys) == len(set(keys)) == search.MERGE_FACTOR + 1
    assert search.search("refund", per_page=20).total == search.MERGE_FACTOR + 1


def test_a_write_request_merges_after_its_response_is_closed(api):
    lead = api("lead")
    for i in range(search.MERGE_FACTOR - 1):
        response = lead.post("/api/v1/playbooks", json={**LINE, "title": f"Login fails {i}"})
        assert response.status_code == 201
        response.close()
    assert segments() == [1] * (search.MERGE_FACTOR - 1)  # a tier not yet full
    response = lead.post("/api/v1/playbooks", json={**LINE, "title": "Login fails again"})
    assert response.status_code == 201
    assert len(segments()) == search.MERGE_FACTOR  # the client has its answer before the merge
    response.close()
    assert segments() == [search.MERGE_FACTOR]
    assert len(lead.get("/api/v1/search?q=login&limit=20").get_json()["results"]) == search.MERGE_FACTOR


def test_many_segments_are_merged_inline_when_no_response_does_it(publish, monkeypatch):
    monkeypatch.setattr(search, "INLINE_MERGE_SEGMENTS", 3)
    monkeypatch.setattr(search, "MERGE_FACTOR", 2)
    for i in range(4):
        publish(f"Refund {i}", summary="refund")
    assert len(segments()) <= 3
    assert search.search("refund").total == 4
