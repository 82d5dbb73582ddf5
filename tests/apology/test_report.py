"""What the editor shows of the check: the checklist's states and the letter cut into marked
pieces that together are exactly the letter."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from incidents.apology import check, report


def test_pieces_cut_at_every_edge_and_name_what_opens_there():
    text = "Dear [name], sorry. Bye"
    found = report.pieces(text, {"apology": [(0, 19)], "facts": []},
                          [{"code": "placeholder_left", "severity": "error", "span": [5, 11]}])
    assert [(p.start, p.end) for p in found] == [(0, 5), (5, 11), (11, 19), (19, 23)]
    first, hole, rest, tail = found
    assert first.elements == ["apology"] and first.opens == ["apology"] and not first.flags
    assert hole.elements == ["apology"] and hole.opens == [] and [f["code"] for f in hole.open_flags] == ["placeholder_left"]
    assert rest.elements == ["apology"] and not rest.flags and not rest.opens
    assert not tail.elements and not tail.flags


def test_one_sentence_with_two_parts_opens_both():
    found = report.pieces("Sorry for the lost day.", {"apology": [(0, 23)], "harm": [(0, 23)]}, [])
    assert len(found) == 1 and found[0].opens == ["apology", "harm"]


spans = st.lists(st.tuples(st.integers(-5, 60), st.integers(-5, 60)), max_size=8)


@given(text=st.text(max_size=50), apology=spans, flags=spans)
def test_pieces_are_the_whole_text_in_order_whatever_the_spans(text, apology, flags):
    findings = [{"code": "blames_customer", "severity": "warning", "span": list(s)} for s in flags]
    found = report.pieces(text, {"apology": apology}, findings)
    assert "".join(text[p.start:p.end] for p in found) == text
    assert all(0 <= p.start < p.end <= len(text) for p in found)


def states(**overrides) -> dict[str, str]:
    elements = {element: [(0, 1)] for element in check.ELEMENTS} | overrides
    return {row.element: row.state for row in report.checklist(
        report.Report([], elements, short=False))}


def test_checklist_states():
    assert set(states().values()) == {"found"}
    assert states(cause=[])["cause"] == "missing"
    # Harm is asked for, but no finding says it is missing: advice, not a problem.
    assert states(harm=[])["harm"] == "suggested"
    short = report.checklist(report.Report([], {e: [] for e in check.ELEMENTS}, short=True))
    assert {row.element: row.state for row in short} == {
        "apology": "missing", "facts": "missing", "harm": "suggested", "remedy": "missing",
        "cause": "not_needed", "change": "not_needed", "contact": "not_needed", "speaker": "not_needed"}
    missing = next(row for row in short if row.element == "apology")
    assert missing.hint == str(check.MESSAGES["missing_apology"])


def test_the_signatory_row_shows_the_signature_block():
    text = "Please contact Dana Cho.\n\nDana Cho\nHead of Customer Experience\n"
    spans = [(0, 24), (26, 34), (35, 62)]
    elements = {element: [(0, 1)] for element in check.ELEMENTS} | {"speaker": spans}
    rows = report.checklist(report.Report([], elements, short=False, text=text))
    speaker = next(row for row in rows if row.element == "speaker")
    assert text[slice(*speaker.quote)] == "Dana Cho\nHead of Customer Experience"
    assert next(row for row in rows if row.element == "apology").quote == (0, 1)
