"""What the letter editor shows of the check: findings, where each part of a good apology is
(or that it is missing), and the letter cut into marked pieces for its highlighted copy."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.i18n import lazy_gettext as _l
from incidents.apology import check

# The finding that says an element is missing (harm has none: it is asked for, not required).
MISSING_CODE = {"apology": "missing_apology", "facts": "missing_facts", "cause": "missing_cause",
                "remedy": "missing_remedy", "change": "missing_prevention",
                "contact": "missing_contact", "speaker": "no_named_signatory"}
HARM_HINT = _l("Say what it cost the customer: time, money, worry.")
# A notice of a few lines is not asked for these (codes.derive): the brand signs it.
NOT_NEEDED_WHEN_SHORT = frozenset({"cause", "change", "contact", "speaker"})


@dataclass(frozen=True)
class Report:
    findings: list[dict]                        # Finding.as_dict(), span in code points
    elements: dict[str, list[tuple[int, int]]]  # check.ELEMENTS -> spans; [] = missing
    short: bool                                 # a notice of a few lines (SMS, push, banner)
    text: str = ""


def report(text: str, language: str, signatories: list[dict]) -> Report:
    """The check run once over `text`: its findings and its elements agree by construction."""
    people = [check.Person(s["name"], s["title"]) for s in signatories]
    judgement = check.judge(text, language, people)
    return Report([f.as_dict() for f in check.findings_of(judgement)],
                  check.elements(text, language, people, judgement=judgement), judgement.short,
                  judgement.text)


@dataclass(frozen=True)
class Row:
    """One line of the checklist: an element, the sentences that hold it, or why it is not."""
    element: str
    label: str
    spans: list[tuple[int, int]]
    state: str        # "found", "missing", "suggested" (missing, not required) or "not_needed"
    hint: str = ""    # what to write, when missing
    quote: tuple[int, int] | None = None  # the stretch the row shows and selects


def _signature(text: str, spans: list[tuple[int, int]]) -> tuple[int, int]:
    """The signatory's last block of lines ("Dana Cho" over "Head of ..."): the signature,
    rather than a greeting or a contact line that names them."""
    start, end = spans[-1]
    for s, e in reversed(spans[:-1]):
        gap = text[e:start]
        if e > start or gap.strip() or gap.count("\n") > 1:  # a blank line ends the block
            break
        start = s
    return start, end


def checklist(found: Report) -> list[Row]:
    rows = []
    for element in check.ELEMENTS:
        spans = found.elements.get(element, [])
        label = str(check.ELEMENT_LABELS[element])
        if spans:
            quote = _signature(found.text, spans) if element == "speaker" else spans[0]
            rows.append(Row(element, label, spans, "found", quote=quote))
        elif found.short and element in NOT_NEEDED_WHEN_SHORT:
            rows.append(Row(element, label, [], "not_needed"))
        elif element in MISSING_CODE:
            rows.append(Row(element, label, [], "missing", str(check.MESSAGES[MISSING_CODE[element]])))
        else:
            # Asked for but no finding of its own: not found is advice, not a problem.
            rows.append(Row(element, label, [], "suggested", str(HARM_HINT)))
    return rows


@dataclass
class Piece:
    """A stretch of the letter with the same marks. `opens`: the elements and finding codes
    whose sentence starts here (the page labels them there, so colour is never the only cue)."""
    start: int
    end: int
    elements: list[str] = field(default_factory=list)
    flags: list[dict] = field(default_factory=list)   # findings covering this stretch
    opens: list[str] = field(default_factory=list)
    open_flags: list[dict] = field(default_factory=list)


def pieces(text: str, elements: dict[str, list[tuple[int, int]]],
           findings: list[dict]) -> list[Piece]:
    """`text` cut at every span's edge, each piece with what covers it. Element spans are whole
    sentences and never overlap one another; a finding's span may sit inside one (a
    placeholder), so pieces are cut at every edge rather than per sentence."""
    n = len(text)
    marks = [(s, e, element, None) for element, spans in elements.items() for s, e in spans]
    marks += [(f["span"][0], f["span"][1], None, f) for f in findings if f.get("span")]
    marks = [(max(0, s), min(n, e), el, f) for s, e, el, f in marks]
    marks = [(s, e, el, f) for s, e, el, f in marks if s < e]  # spans of another text
    starting: dict[int, list[int]] = {}
    ending: dict[int, list[int]] = {}
    for i, (s, e, _el, _f) in enumerate(marks):
        starting.setdefault(s, []).append(i)
        ending.setdefault(e, []).append(i)
    edges = sorted({0, n, *starting, *ending})
    active: dict[int, None] = {}  # a swept set, in the order the marks were listed
    out = []
    for a, b in zip(edges, edges[1:], strict=False):
        for i in ending.get(a, ()):
            active.pop(i, None)
        for i in starting.get(a, ()):
            active[i] = None
        piece = Piece(a, b)
        for i in sorted(active):
            s, _e, element, finding = marks[i]
            if element:
                piece.elements.append(element)
                if s == a:
                    piece.opens.append(element)
            else:
                piece.flags.append(finding)
                if s == a:
                    piece.open_flags.append(finding)
        out.append(piece)
    return out
