"""Relevance of search on a fixed Korean/English/mixed set, against SQLite FTS5 as a baseline.

The playbooks (relevance_playbooks.jsonl, import format) are indexed through the app's own
import and outbox; the queries (relevance_queries.jsonl) use other inflections than the
documents (배탈 for 배탈이 났다고, refund for refunded). Run with `pytest -s` to see the figures.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from app import search
from app.extensions import db
from playbooks import services
from playbooks.models import TEXT_FIELDS

DATA = Path(__file__).parent
K = 3


def _lines(name: str) -> list[str]:
    return (DATA / name).read_text(encoding="utf-8").splitlines()


PLAYBOOKS = [json.loads(line) for line in _lines("relevance_playbooks.jsonl")]
QUERIES = [json.loads(line) for line in _lines("relevance_queries.jsonl")]


def recall_at_k(ranked: dict[str, list[str]]) -> float:
    """Mean over queries of the share of expected titles found in the top K."""
    shares = []
    for q in QUERIES:
        top = ranked[q["query"]][:K]
        expected = q["expected"]
        shares.append(sum(t in top for t in expected) / min(K, len(expected)))
    return sum(shares) / len(shares)


def fts5_ranked(tokenizer: str) -> dict[str, list[str]]:
    """The same documents and queries in an in-memory FTS5 table, query terms OR-ed."""
    con = sqlite3.connect(":memory:")
    try:
        con.execute(f"CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize='{tokenizer}')")
        con.executemany("INSERT INTO docs (title, body) VALUES (?, ?)", [
            (p["title"], "\n\n".join(p.get(f) or "" for f in TEXT_FIELDS)) for p in PLAYBOOKS])
        ranked = {}
        for q in QUERIES:
            match = " OR ".join('"' + term.replace('"', '""') + '"' for term in q["query"].split())
            # The same title boost as our schema (2.5), so only the analysis differs.
            rows = con.execute("SELECT title FROM docs WHERE docs MATCH ? "
                               "ORDER BY bm25(docs, 2.5, 1.0) LIMIT ?", (match, K)).fetchall()
            ranked[q["query"]] = [title for (title,) in rows]
        return ranked
    finally:
        con.close()


@pytest.fixture
def indexed(app):
    created = services.import_lines(_lines("relevance_playbooks.jsonl"))
    db.session.commit()
    search.apply_pending()
    assert len(created) == len(PLAYBOOKS)
    return created


def test_the_set_is_big_and_mixed_enough():
    titles = {p["title"] for p in PLAYBOOKS}
    assert len(PLAYBOOKS) >= 40 and len(titles) == len(PLAYBOOKS)
    assert len(QUERIES) >= 25
    assert {q["language"] for q in QUERIES} == {"ko", "en", "mixed"}
    assert {p["language"] for p in PLAYBOOKS} == {"ko", "en"}
    for q in QUERIES:
        assert q["expected"] and set(q["expected"]) <= titles, q
    # The queries are not copies of the titles they should find.
    assert all(q["query"] not in q["expected"] for q in QUERIES)


def test_recall_at_3_beats_fts5(indexed, tmp_path):
    ours = {}
    for q in QUERIES:
        results = search.search(q["query"], types=["playbook"], per_page=K)
        ours[q["query"]] = [hit.title for hit in results.hits]
    without_hits = [q for q, titles in ours.items() if not titles]
    misses = [(q["query"], ours[q["query"]]) for q in QUERIES
              if not set(q["expected"]) & set(ours[q["query"]][:K])]

    figures = {"playbooks": len(PLAYBOOKS), "queries": len(QUERIES), "k": K,
               "ours": round(recall_at_k(ours), 4),
               "fts5_trigram": round(recall_at_k(fts5_ranked("trigram")), 4),
               "fts5_unicode61": round(recall_at_k(fts5_ranked("unicode61")), 4),
               "misses": misses}
    out = tmp_path / "relevance.json"
    out.write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nrecall@{K} over {len(QUERIES)} queries, {len(PLAYBOOKS)} playbooks: "
          f"ours {figures['ours']:.3f}, FTS5 trigram {figures['fts5_trigram']:.3f}, "
          f"FTS5 unicode61 {figures['fts5_unicode61']:.3f} (written to {out})")

    assert without_hits == []
    assert figures["ours"] >= 0.95, misses
    assert figures["ours"] > figures["fts5_trigram"]
    assert figures["ours"] > figures["fts5_unicode61"]


def test_each_hit_is_a_published_playbook_once(indexed):
    results = search.search("결제 refund 배송", types=["playbook"], per_page=50)
    ids = [hit.id for hit in results.hits]
    assert len(ids) == len(set(ids))
    assert set(ids) <= {p.id for p in indexed}
