"""What an apology's sentences do (roles) and what the letter is told (codes).

The check gives every sentence of a letter its roles (a classifier and a few exact rules);
the letter's findings follow from those roles by the rules below, the same for the corpus'
gold labels and for the check's predictions. DOMAIN.md section 5 says why each one matters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# --- roles of a sentence (a sentence may have several, or none: "other") -----------------------

ROLES = (
    "apology",         # apologises or expresses regret for what happened
    "facts",           # what happened and/or when ("3월 2일 오전 9시경 주문하신 코트가 ...")
    "harm",            # the harm to the customer(s): lost time, money, health, trust
    "cause",           # why it happened, stated ("송장 두 장이 겹쳐 출력된 것이 원인")
    "cause_pending",   # the cause is not known yet, said honestly, with when it will be told
    "action_taken",    # what was already done about it (fixed, stopped, contacted ...)
    "remedy",          # what the customer gets: refund, replacement, coupon, credit, ...
    "change",          # a concrete change so it does not happen again (named measure)
    "effort_only",     # a promise of effort instead of a change ("최선을 다하겠습니다")
    "contact",         # how to reach a person (address, phone, "reply to this e-mail")
    "speaker",         # a named person who speaks or signs ("CX팀장 김민지 드림", "A입니다")
    "collective",      # signed or spoken by a collective only ("임직원 일동", "The team")
    "conditional",     # a conditional apology ("불편을 느끼셨다면", "if anyone was offended")
    "blame_customer",  # fault put on the customer
    "blame_employee",  # fault put on an individual employee
    "heading",         # a heading or label line ("## 원인", "Cause:", "[공지]")
)
ROLE_SET = frozenset(ROLES)

# --- codes of a letter ---------------------------------------------------------------------------

ERROR, WARNING = "error", "warning"

# Errors block approval, export and sending; warnings can be overridden by a lead with a
# reason. Only what an exact rule or a plain contradiction decides is an error.
SEVERITY = {
    "placeholder_left": ERROR,
    "no_named_signatory": ERROR,
    "collective_signature": ERROR,
    "contradiction": ERROR,
    "missing_apology": WARNING,
    "conditional_apology": WARNING,
    "blames_customer": WARNING,
    "blames_employee": WARNING,
    "missing_facts": WARNING,
    "missing_cause": WARNING,
    "missing_remedy": WARNING,
    "missing_prevention": WARNING,
    "vague_promise": WARNING,
    "missing_contact": WARNING,
}
CODES = tuple(SEVERITY)

# A notice of a few lines (an SMS, a push message, an app banner) speaks for the brand and has
# room for what happened, the apology and what the customer gets, nothing more: it is not
# asked for a named signature (the brand signs it), a cause, a change or a contact.
SHORT_CHARS = 320
SHORT_SENTENCES = 4


@dataclass(frozen=True)
class Judged:
    """A sentence of the letter, where it is in the text, and its roles."""
    start: int
    end: int
    roles: frozenset[str]


def is_short(text: str, sentence_count: int) -> bool:
    return len(text.strip()) <= SHORT_CHARS and sentence_count <= SHORT_SENTENCES


def derive(sentences: Iterable[Judged], text: str, *, placeholders: bool = False) -> set[str]:
    """The letter's codes from its sentences' roles. `placeholders`: an exact rule found an
    unfilled gap ([고객 성함], {{name}}, ○○○) in the text."""
    sentences = list(sentences)
    has = set().union(*(s.roles for s in sentences)) if sentences else set()
    short = is_short(text, sum(1 for s in sentences if s.roles != {"heading"}))
    return codes_for(has, short, placeholders=placeholders)


def codes_for(has: set[str] | frozenset[str], short: bool, *, placeholders: bool = False) -> set[str]:
    """The codes of a letter whose sentences hold the roles `has` (`short`: see is_short)."""
    codes: set[str] = set()
    if placeholders:
        codes.add("placeholder_left")
    if "speaker" not in has and not short:
        codes.add("collective_signature" if "collective" in has else "no_named_signatory")
    if "cause" in has and "cause_pending" in has:
        codes.add("contradiction")
    if "apology" not in has:
        codes.add("missing_apology")
    if "conditional" in has:
        codes.add("conditional_apology")
    if "blame_customer" in has:
        codes.add("blames_customer")
    if "blame_employee" in has:
        codes.add("blames_employee")
    if "facts" not in has:
        codes.add("missing_facts")
    if short:
        if not has & {"remedy", "action_taken"}:
            codes.add("missing_remedy")
        return codes
    if not has & {"cause", "cause_pending"}:
        codes.add("missing_cause")
    if "remedy" not in has:
        codes.add("missing_remedy")
    if "change" not in has:
        codes.add("vague_promise" if "effort_only" in has else "missing_prevention")
    if "contact" not in has:
        codes.add("missing_contact")
    return codes


def has_errors(codes: Iterable[str]) -> bool:
    return any(SEVERITY[c] == ERROR for c in codes)


# --- the one exact rule the codes need: an unfilled placeholder ---------------------------------

# Exact: a gap left for someone to fill. "[고객 성함]", "{{name}}", "<원인>", "○○○", "XXX".
# A bracket counts only when it names a slot (a Korean SMS opens with its brand in brackets,
# "[하루마켓]"; a notice with "[공지]"); a Markdown link "[text](url)" is no gap either.
_SLOT = re.compile(
    r"성함|이름|고객명|일시|날짜|시각|시간|원인|보상|금액|주소|연락처|서명|직함|조치|대책|내용|입력|"
    r"확인\s*중|미정|작성|채워|기재|\b(?:name|date|time|amount|cause|remedy|signature|title|"
    r"contact|insert|fill|tbd|todo|customer|details?|here)\b", re.IGNORECASE)
PLACEHOLDER = re.compile(
    r"\[([^\[\]\n]{1,60})\](?!\()|\{\{[^{}\n]{1,60}\}\}|<[가-힣A-Za-z _]{1,30}>"
    r"|[○◯]{2,}|(?<![A-Za-z])(?:XXX+|OOO+)(?![A-Za-z])")


# A bracket alone on its line is a notice's heading ("[재발 방지 대책]", "[보상 안내]") unless it
# asks for something to be written in ("[원인을 입력해 주세요]", "[insert the date]").
# or names a single datum ("[고객 성함]", "[date]").
_INSTRUCTION = re.compile(r"입력|작성|기재|채워|적어|넣어|주세요|성함|이름|고객명|일시|날짜|시각|금액|연락처|서명|"
                          r"직함|\b(?:insert|fill|enter|write|add|tbd|todo|here|name|date|time|amount|"
                          r"signature)\b", re.IGNORECASE)
_MARKERS = " \t#>*-+"


def _alone_on_line(text: str, start: int, end: int) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    return not text[line_start:start].strip(_MARKERS) and not text[end:line_end].strip()


def placeholder_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in PLACEHOLDER.finditer(text):
        inner = match.group(1)
        if inner is not None and (not _SLOT.search(inner) or (
                len(inner) <= 20 and not _INSTRUCTION.search(inner)
                and _alone_on_line(text, *match.span()))):
            continue
        spans.append(match.span())
    return spans
