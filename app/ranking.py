"""Whoosh's BM25F ranking of an OR of terms, computed a whole posting list at a time.

Whoosh walks a tree of matchers one posting at a time, about ten Python calls per posting,
and on a corpus where common Korean syllable pairs occur in most documents that walk was
nearly all of a search (p95 333 ms at 100,000 playbooks). Here each term's posting list is
decoded block by block into numpy arrays and scored in one vectorised step, with the same
statistics (Whoosh's own BM25F scorer supplies idf and average length), so the scores are
Whoosh's to the last bit (tests/search/test_ranking.py compares them).

It also counts exactly: Whoosh's top-N collector swaps in cheaper matchers once the page is
full, and those drop documents that can no longer reach the page, so its `total` was an
undercount (561 instead of 8,391 for one query at 10,000 playbooks).

Only the parts of Whoosh's on-disk format that its own matcher reads are used here
(W3LeafMatcher's blocks, the one-byte length column); whoosh-reloaded is pinned.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.reading import TermNotFound
from whoosh.scoring import BM25FScorer
from whoosh.util.numeric import byte_to_length

# Whoosh stores a field's length per document as one byte; this is its decoding table.
_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


@dataclass(frozen=True)
class Filter:
    """Documents whose `field` holds any of `terms` (an ID or KEYWORD field)."""

    field: str
    terms: tuple[str, ...]


def postings(reader, field: str, text: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(document numbers, weights) of one term in one segment, deleted documents included."""
    fieldtype = reader.schema[field]
    try:
        matcher = reader._terms.matcher(field, reader._text_to_bytes(field, text), fieldtype.format)
    except TermNotFound:
        return None
    ids, weights = [], []
    while True:
        if matcher._data is None:
            matcher._read_data()
        block_ids, block_weights = matcher._data[0], matcher._data[1]
        # Each block stores its document numbers as gaps from the previous one, from 0.
        ids.append(np.cumsum(np.array(block_ids, dtype=np.int64)))
        if block_weights is None:
            weights.append(np.ones(len(block_ids)))
        elif isinstance(block_weights, float):
            weights.append(np.full(len(block_ids), block_weights))
        else:
            weights.append(np.array(block_weights, dtype=np.float64))
        if matcher._lastblock:
            break
        matcher._next_block()
    return np.concatenate(ids), np.concatenate(weights)


def _field_lengths(reader, field: str) -> np.ndarray:
    size = reader.doc_count_all()
    raw = np.zeros(size, dtype=np.uint8)
    column = reader._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
    if column is not None:
        stored = np.frombuffer(column._dbfile.get(column._basepos, column._count), dtype=np.uint8)
        raw[:len(stored)] = stored  # a column may end early: the rest are the default, 0
    return _LENGTHS[raw]


def _segment_mask(reader, filters: Sequence[Filter], docsets: Sequence[set[int]], base: int) -> np.ndarray:
    size = reader.doc_count_all()
    allowed = np.ones(size, dtype=bool)
    for spec in filters:
        wanted = np.zeros(size, dtype=bool)
        for term in spec.terms:
            found = postings(reader, spec.field, term)
            if found is not None:
                wanted[found[0]] = True
        allowed &= wanted
    for docset in docsets:
        local = [d - base for d in docset if base <= d < base + size]
        wanted = np.zeros(size, dtype=bool)
        wanted[np.array(local, dtype=np.int64)] = True
        allowed &= wanted
    if reader.has_deletions():
        allowed[np.fromiter(reader.deleted_docs_set, dtype=np.int64)] = False
    return allowed


def rank(searcher, terms: Sequence[str], fields: Iterable[str], *, limit: int,
         filters: Sequence[Filter] = (), docsets: Sequence[set[int]] = (),
         min_terms: int = 1) -> tuple[list[tuple[float, int]], int]:
    """The best `limit` (score, global document number) pairs, best first, and how many
    documents matched in all.

    A document matches when at least `min_terms` of the distinct `terms` occur in it (in any
    of `fields`), it passes every filter (any of its terms) and is in every docset (global
    document numbers, for filters Whoosh evaluates itself), and is not deleted. Its score is
    the sum of BM25F over the (field, term) pairs it contains, as Whoosh scores an Or of
    Terms; ties go to the lower document number, as in Whoosh.
    """
    terms = list(dict.fromkeys(terms))
    fields = list(fields)
    best: list[tuple[float, int]] = []
    total = 0
    for sub, base in searcher.leaf_searchers():
        reader = sub.reader()
        size = reader.doc_count_all()
        if not size:
            continue
        lengths_of: dict[str, np.ndarray] = {}
        scores = np.zeros(size)
        matched = np.zeros(size, dtype=np.int32)
        for term in terms:
            present = np.zeros(size, dtype=bool)
            for field in fields:
                found = postings(reader, field, term)
                if found is None:
                    continue
                ids, weights = found
                scorer = searcher.weighting.scorer(sub, field, term)
                if not isinstance(scorer, BM25FScorer):
                    raise TypeError(f"rank() computes BM25F only, not {type(scorer).__name__}")
                if field not in lengths_of:
                    lengths_of[field] = _field_lengths(reader, field)
                lengths = lengths_of[field][ids]
                k1, b = scorer.K1, scorer.B
                scores[ids] += scorer.idf * ((weights * (k1 + 1))
                                             / (weights + k1 * ((1 - b) + b * lengths / scorer.avgfl)))
                present[ids] = True
            matched += present
        hit = matched >= max(1, min_terms)
        if filters or docsets or reader.has_deletions():
            hit &= _segment_mask(reader, filters, docsets, base)
        candidates = np.flatnonzero(hit)
        total += len(candidates)
        if limit < 1:
            continue
        if len(candidates) > limit:
            # Every document tied with the limit's score is kept, so ties break on docnum.
            cut = -np.partition(-scores[candidates], limit - 1)[limit - 1]
            candidates = candidates[scores[candidates] >= cut]
        best.extend(zip(scores[candidates].tolist(), (candidates + base).tolist(), strict=True))
    best.sort(key=lambda pair: (-pair[0], pair[1]))
    return best[:limit], total
