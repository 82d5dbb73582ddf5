"""The apology check: what a letter's sentences do, and what that tells its writer.

The letter is cut into units (sentences, headings, label and signature lines, analysis.py);
each unit gets its roles (codes.ROLES) from a trained classifier (features.py, roles.py) and a
few exact rules (placeholders, contact details, a known signatory's signature line); the
letter's codes follow from the roles by codes.derive, the same rules that label the corpus.
A finding names the unit it is about; a "missing_*" finding names none. DOMAIN.md section 5
says why each code matters. Any text gets findings, never an error: input is bounded and no
pattern backtracks.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from app.i18n import lazy_gettext as _l
from incidents.apology import analysis, features, roles
from incidents.apology.codes import (
    CODES,
    ERROR,
    SEVERITY,
    WARNING,
    Judged,
    derive,
    is_short,
    placeholder_spans,
)

__all__ = ["CODES", "ELEMENTS", "ERROR", "MESSAGES", "SEVERITY", "WARNING", "Finding", "Person",
           "check", "elements", "has_errors", "judge", "named_blame"]

Person = features.Person

# The check reads at most this much of a text (the app stores letters of up to 50,000).
MAX_CHARS = 60_000


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    message: str
    span: tuple[int, int] | None = None

    def as_dict(self) -> dict:
        data = asdict(self)
        data["message"] = str(self.message)
        data["span"] = list(self.span) if self.span else None
        return data


MESSAGES = {
    "placeholder_left": _l("An unfilled placeholder is left in the text."),
    "no_named_signatory": _l("No named person signs this letter. Sign it with the name and job "
                             "title of someone who answers for the response."),
    "collective_signature": _l("Signed only by a collective (such as \"all employees\"). Nobody can "
                               "be held to account; add a named person with their title."),
    "contradiction": _l("The letter states a cause and also says the cause is still being "
                        "investigated. Say only what is known, and when the rest will be told."),
    "missing_apology": _l("The letter never apologises. Say plainly that you are sorry."),
    "conditional_apology": _l("Conditional apology (\"if anyone was offended\"). Apologise for what "
                              "happened, without conditions."),
    "blames_customer": _l("This shifts fault to the customer. Say what we got wrong."),
    "blames_employee": _l("This points at an individual employee. Accountable, not blamed: say what "
                          "the company got wrong."),
    "missing_facts": _l("Say plainly what happened and when."),
    "missing_cause": _l("Say plainly what caused it."),
    "missing_remedy": _l("Say what the customer gets or what was already done for them."),
    "missing_prevention": _l("Say what will change so it does not happen again."),
    "vague_promise": _l("The only promise is effort (\"we will do our best\"). Name concrete "
                        "changes."),
    "missing_contact": _l("Say how to reach a named person."),
    "blames_named_person": _l("This sentence names a person as the cause; postmortems criticise "
                              "processes, not people."),
}
_SEVERITY = {**SEVERITY, "blames_named_person": WARNING}

# The codes a unit is the reason for, and the role that marks that unit.
_CODE_ROLES = {
    "conditional_apology": ("conditional",),
    "blames_customer": ("blame_customer",),
    "blames_employee": ("blame_employee",),
    "collective_signature": ("collective",),
    "vague_promise": ("effort_only",),
    "contradiction": ("cause", "cause_pending"),
}

# What a good apology holds (DOMAIN.md section 5), and the roles that show each part.
ELEMENTS = ("apology", "facts", "harm", "cause", "remedy", "change", "contact", "speaker")
_ELEMENT_ROLES = {
    "apology": ("apology",), "facts": ("facts",), "harm": ("harm",),
    "cause": ("cause", "cause_pending"), "remedy": ("remedy",), "change": ("change",),
    "contact": ("contact",), "speaker": ("speaker",),
}
ELEMENT_LABELS = {
    "apology": _l("Apology"), "facts": _l("What happened"), "harm": _l("Harm to the customer"),
    "cause": _l("Cause"), "remedy": _l("What the customer gets"),
    "change": _l("What will change"), "contact": _l("How to reach a person"),
    "speaker": _l("Named signatory"),
}


@dataclass(frozen=True)
class Judgement:
    """A letter's units, each unit's roles, its placeholders and codes."""
    text: str
    units: list[analysis.Unit]
    roles: list[frozenset[str]]
    placeholders: list[tuple[int, int]]
    codes: frozenset[str]
    short: bool

    def spans_with(self, wanted: Iterable[str]) -> list[tuple[int, int]]:
        wanted = set(wanted)
        return [(u.start, u.end) for u, r in zip(self.units, self.roles, strict=True) if r & wanted]


def judge(text: str, language: str = "ko", people: Iterable[Person] = (),
          model: roles.Model | None = None) -> Judgement:
    """Units, roles and codes of `text` (`model`: another role model than the shipped one)."""
    if not isinstance(text, str):
        raise TypeError("text must be a string")
    text = text[:MAX_CHARS]
    # A title that is not text counts as none (and would not do as part of the cache's key).
    people = tuple(Person(p.name, p.title if isinstance(p.title, str) else "") for p in people
                   if isinstance(p, Person) and isinstance(p.name, str))
    language = language if language in ("ko", "en") else "ko"
    if model is not None:
        return _judge(text, language, people, model)
    return _judged(text, language, people)


# One letter is judged several times in a row: the live check while typing, saving, the page
# that shows it, approving, exporting. A Judgement is immutable by use (nobody writes to it).
@functools.lru_cache(maxsize=256)
def _judged(text: str, language: str, people: tuple[Person, ...]) -> Judgement:
    return _judge(text, language, people, None)


def _judge(text: str, language: str, people: tuple[Person, ...],
           model: roles.Model | None) -> Judgement:
    units = analysis.units(text)
    rows = features.letter_features(text, units, people, language)
    unit_roles, _probs = roles.predict(units, rows, roles.known_names(people), model)
    holes = placeholder_spans(text)
    judged = [Judged(u.start, u.end, r) for u, r in zip(units, unit_roles, strict=True)]
    codes = derive(judged, text, placeholders=bool(holes))
    short = is_short(text, sum(1 for r in unit_roles if r != {"heading"}))
    return Judgement(text, units, unit_roles, holes, frozenset(codes), short)


def _finding(code: str, span: tuple[int, int] | None = None) -> Finding:
    return Finding(code, _SEVERITY[code], MESSAGES[code], span)


def findings_of(judgement: Judgement) -> list[Finding]:
    found: list[Finding] = []
    for code in CODES:
        if code not in judgement.codes:
            continue
        if code == "placeholder_left":
            found.extend(_finding(code, span) for span in judgement.placeholders)
        elif code == "contradiction":
            # The stated cause is the claim that cannot stand beside "still investigating".
            spans = judgement.spans_with(("cause",))
            found.append(_finding(code, spans[0] if spans else None))
        elif code in _CODE_ROLES:
            spans = judgement.spans_with(_CODE_ROLES[code]) or [None]
            found.extend(_finding(code, span) for span in spans)
        else:
            found.append(_finding(code))
    return found


def check(text: str, language: str = "ko", people: Iterable[Person] = ()) -> list[Finding]:
    """Findings for an apology `text`; `people` (the staff who sign it) sharpens the
    signature. `language` is the letter's language; a letter may mix both."""
    return findings_of(judge(text, language, people))


def elements(text: str, language: str = "ko", people: Iterable[Person] = (),
             judgement: Judgement | None = None) -> dict[str, list[tuple[int, int]]]:
    """For each part a good apology needs (ELEMENTS), the spans of the units that hold it;
    an empty list: the part is missing."""
    judgement = judgement or judge(text, language, people)
    found = {}
    for element in ELEMENTS:
        wanted = _ELEMENT_ROLES[element]
        if element == "remedy" and judgement.short:
            wanted = ("remedy", "action_taken")  # a short notice may tell what was done instead
        found[element] = judgement.spans_with(wanted)
    return found


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity == ERROR for f in findings)


# --- postmortems: blameless ------------------------------------------------------------------

def _name_forms(names: Iterable[str]) -> list[re.Pattern]:
    """Patterns for each way a person's name may appear: "박지훈" or "지훈"; "Kim Minji",
    "Kim" or "Minji" as whole words."""
    forms: set[str] = set()
    for name in names:
        if not isinstance(name, str):
            continue
        name = " ".join(name.split())[:80]
        if len(name) < 2:
            continue
        forms.add(name)
        if analysis.HANGUL.search(name):
            compact = name.replace(" ", "")
            forms.add(compact)
            if len(compact) >= 3:
                forms.add(compact[1:])
        else:
            forms.update(word for word in name.split() if len(word) >= 2 and word[0].isupper())
    patterns = []
    for form in sorted(forms, key=len, reverse=True):
        if analysis.HANGUL.search(form):
            patterns.append(re.compile(re.escape(form)))
        else:
            patterns.append(re.compile(r"(?<![\w])" + re.escape(form) + r"(?![\w])"))
    return patterns


def named_blame(text: str, language: str = "ko", names: Sequence[str] = ()) -> list[Finding]:
    """Sentences that put the fault on a named person ("박지훈 상담원이 실수해서", "Kim forgot
    to"): the role classifier finds blame on an employee or a customer, `names` (staff and
    customers) tells whether the sentence names someone."""
    patterns = _name_forms(names)
    if not patterns or not isinstance(text, str):
        return []
    text = text[:MAX_CHARS]
    if not any(p.search(text) for p in patterns):
        return []  # nobody is named: no sentence to judge (pages show this on every view)
    judgement = judge(text, language)
    found = []
    for unit, unit_roles in zip(judgement.units, judgement.roles, strict=True):
        named = [p for p in patterns if p.search(unit.text)]
        if not named:
            continue
        # The classifier learnt blame from apology letters; a postmortem's plainer "박지훈
        # 상담원이 실수해서" is also caught when the named person is the one who erred: their
        # name as the subject (or owner) of a sentence about a fault.
        if unit_roles & {"blame_employee", "blame_customer"} or (
                "fault" in features.semantic_classes(unit)
                and any(_AGENT.match(unit.text, m.end()) for p in named
                        for m in p.finditer(unit.text))):
            found.append(_finding("blames_named_person", (unit.start, unit.end)))
    return found


# After a name: an optional title or role word, then a subject or possessive particle ("박지훈
# 상담원이", "지훈 님의", "Kim's"), or an English verb right after the name ("Kim forgot").
_AGENT = re.compile(r"(?:\s?[가-힣]{1,6})?\s?(?:이|가|의|께서|은|는|님이|님의)(?![가-힣])"
                    r"|'s\b|’s\b|\s(?:[a-z]{1,12}\s)?(?:forgot|failed|did not|didn't|missed|"
                    r"ignored|skipped|broke|deleted|misconfigured|neglected|made)\b")
