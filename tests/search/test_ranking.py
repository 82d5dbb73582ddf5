"""app.ranking against Whoosh itself: same documents, same order, same scores, exact totals.

The reference is Whoosh's own search of the same Or of Terms with no limit (so no matcher
is swapped for a cheaper one part-way), over indexes with several segments and deletions.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.filedb.filestore import RamStorage
from whoosh.query import Or, Term

from app import ranking, search

FIELDS = search.SEARCHED_FIELDS
WORDS = ["배송", "지연", "환불", "결제", "오류가", "발생했습니다", "배탈이", "났다고", "refund",
         "refunded", "delivery", "delayed", "courier", "payment", "error", "errors", "coupon"]


def build(batches: list[list[dict]], deleted: set[str] = frozenset()):
    """An index in memory with one segment per batch (no merging), then the deletions."""
    ix = RamStorage().create_index(search.SCHEMA)
    for batch in batches:
        writer = ix.writer(**search.WRITER_OPTIONS)
        for doc in batch:
            writer.add_document(**doc)
        writer.commit(merge=False)
    if deleted:
        writer = ix.writer(**search.WRITER_OPTIONS)
        for key in deleted:
            writer.delete_by_term("key", key)
        writer.commit(merge=False)
    return ix.searcher()


def doc(n: int, title: str, body: str, type_: str = "playbook", grade: str = "") -> dict:
    return {"key": f"{type_}:{n}", "type": type_, "title": title, "body": body, "grade": grade,
            "category": "", "tags": ""}


def reference(searcher, terms: list[str], filter_=None) -> list[tuple[float, int]]:
    query = Or([Term(f, t) for t in terms for f in FIELDS])
    results = searcher.search(query, limit=None, filter=filter_, optimize=False)
    return sorted(((hit.score, hit.docnum) for hit in results), key=lambda p: (-p[0], p[1]))


def assert_same(got: list[tuple[float, int]], want: list[tuple[float, int]]) -> None:
    assert [d for _s, d in got] == [d for _s, d in want]
    for (a, _), (b, _) in zip(got, want, strict=True):
        assert abs(a - b) < 1e-9


def test_same_order_scores_and_total_as_whoosh_across_segments_and_deletions():
    searcher = build([
        [doc(1, "배송 지연 안내", "택배가 지연되어 배송이 늦었습니다. refund was issued"),
         doc(2, "Refund after delivery delay", "The courier delayed the parcel; we refunded."),
         doc(3, "결제 오류", "결제 오류가 발생했습니다. 환불을 진행했습니다.")],
        [doc(4, "Payment errors", "Payment error during checkout, refunds issued."),
         doc(5, "배탈 신고", "배탈이 났다고 하셨습니다. 환불과 쿠폰을 드렸습니다.")],
        [doc(6, "배송 지연 재발", "배송 지연이 또 발생했습니다.")],
    ], deleted={"playbook:3"})
    for text in ["배송 지연", "refund", "결제 오류 refund", "환불", "배탈", "nothing-here", "courier 쿠폰"]:
        terms = search.terms(text)
        want = reference(searcher, terms)
        for limit in (1, 2, 3, 10):
            got, total = ranking.rank(searcher, terms, FIELDS, limit=limit)
            assert total == len(want), text
            assert_same(got, want[:limit])


def test_filters_match_whoosh_filters():
    searcher = build([[doc(i, f"환불 {i}", "refund delayed delivery" * (i % 3 + 1),
                           type_="playbook" if i % 2 else "postmortem", grade=["Red", "Blue"][i % 2])
                       for i in range(1, 13)]])
    terms = search.terms("환불 refund")
    want = reference(searcher, terms, filter_=Term("type", "postmortem"))
    got, total = ranking.rank(searcher, terms, FIELDS, limit=50,
                              filters=[ranking.Filter("type", ("postmortem",))])
    assert total == len(want) == 6
    assert_same(got, want)
    got, total = ranking.rank(searcher, terms, FIELDS, limit=50,
                              filters=[ranking.Filter("type", ("postmortem", "playbook")),
                                       ranking.Filter("grade", ("Red",))])
    assert total == 6 and {d for _s, d in got} == {d for _s, d in want}
    _got, total = ranking.rank(searcher, terms, FIELDS, limit=5, docsets=[{0, 1, 99}])
    assert total == 2


def test_min_terms_counts_distinct_terms_in_any_field():
    searcher = build([[doc(1, "배송", "nothing"), doc(2, "배송", "지연"), doc(3, "x", "배송 지연 환불")]])
    terms = ["배송", "지연", "환불"]
    assert ranking.rank(searcher, terms, FIELDS, limit=10, min_terms=1)[1] == 3
    assert {d for _s, d in ranking.rank(searcher, terms, FIELDS, limit=10, min_terms=2)[0]} == {1, 2}
    assert ranking.rank(searcher, terms, FIELDS, limit=10, min_terms=3)[1] == 1


def test_limit_zero_still_counts():
    searcher = build([[doc(1, "refund", "refund")]])
    assert ranking.rank(searcher, ["refund"], FIELDS, limit=0) == ([], 1)


text_strategy = st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(" ".join)


@settings(max_examples=40, deadline=None)
@given(batches=st.lists(st.lists(st.tuples(text_strategy, text_strategy), min_size=1, max_size=6),
                        min_size=1, max_size=3),
       query=st.lists(st.sampled_from(WORDS + ["없는말", "absent"]), min_size=1, max_size=4),
       delete=st.sets(st.integers(0, 17), max_size=4), limit=st.integers(1, 8))
def test_random_indexes_rank_as_whoosh_does(batches, query, delete, limit):
    docs, numbered = [], 0
    for batch in batches:
        docs.append([])
        for title, body in batch:
            docs[-1].append(doc(numbered, title, body))
            numbered += 1
    searcher = build(docs, deleted={f"playbook:{n}" for n in delete if n < numbered})
    terms = search.terms(" ".join(query))
    want = reference(searcher, terms)
    got, total = ranking.rank(searcher, terms, FIELDS, limit=limit)
    assert total == len(want)
    # Equal scores may sum in another order, so compare scores first, then ties by docnum.
    assert [round(s, 9) for s, _d in got] == [round(s, 9) for s, _d in want[:limit]]
    assert {d for _s, d in got} <= {d for _s, d in want}
