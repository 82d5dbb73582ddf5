"""The apology check: a pure function over any text, Korean or English.

It flags what makes apologies backfire (DOMAIN.md section 5): no named person
signs, only a collective signs, the apology is conditional, the customer is
blamed, facts, cause, remedy, prevention or contact are missing, placeholders
are left, or the only promise is to "do our best". Findings are advice for a
human, so each rule errs towards not flagging a good letter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from flask_babel import lazy_gettext as _l

ERROR, WARNING = "error", "warning"


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


@dataclass(frozen=True)
class Person:
    name: str
    title: str


MESSAGES = {
    "no_named_signatory": _l("No named person signs this letter. Sign it with the name and job "
                             "title of someone who answers for the response."),
    "collective_signature": _l("Signed only by a collective (such as \"all employees\"). Nobody can "
                               "be held to account; add a named person with their title."),
    "conditional_apology": _l("Conditional apology (\"if anyone was offended\"). Apologise for what "
                              "happened, without conditions."),
    "blames_customer": _l("This shifts fault to the customer. Say what we got wrong."),
    "blames_employee": _l("This points at an individual employee. Accountable, not blamed: say what "
                          "the company got wrong."),
    "missing_facts": _l("Say plainly what happened and when."),
    "missing_cause": _l("Say plainly what caused it."),
    "missing_remedy": _l("Say what the customer gets or what was already done for them."),
    "missing_prevention": _l("Say what will change so it does not happen again."),
    "missing_contact": _l("Say how to reach a named person."),
    "placeholder_left": _l("An unfilled placeholder is left in the text."),
    "vague_promise": _l("The only promise is effort (\"we will do our best\"). Name concrete "
                        "changes."),
}

SEVERITY = {"missing_contact": WARNING, "blames_employee": WARNING}

_FLAGS = re.IGNORECASE | re.MULTILINE

PLACEHOLDER = re.compile(r"\[(?!\s*[xX ]?\s*\])[^\[\]\n]{1,120}\](?!\()")

COLLECTIVE = re.compile(
    r"임직원\s*일동|(?:회사|직원|사원|경영진|대표이사\s*외)\s*일동|(?:모든|전\s*)\s*임직원|임직원\s*모두|"
    r"all\s+(?:of\s+our\s+)?(?:employees|staff)|all\s+of\s+us\s+at\b|the\s+management(?:\s+team)?|"
    r"(?:the\s+)?(?:whole|entire)\s+team\s+at\b|the\s+(?:staff|employees)\s+of\b", _FLAGS)

# A sentence that apologises AND makes the harm hypothetical.
APOLOGY_WORD = re.compile(r"sorry|apologi[sz]|사과|죄송|송구|유감", _FLAGS)
CONDITIONAL_EN = re.compile(
    r"\b(?:if|in\s+case|to\s+the\s+extent(?:\s+that)?)\s+(?:anyone|any\s+(?:one|of\s+you|customers?)|"
    r"you|some(?:one|\s+customers?)?|we\s+(?:have|may\s+have|might\s+have))\b[^.!?\n]{0,80}?"
    r"\b(?:offend|upset|hurt|inconvenien|felt|feel|experienc|caus|disappoint|misunderst)|"
    r"\b(?:sorry|apologi[sz]e)\s+(?:to\s+anyone\s+who|if|for\s+any\s+(?:offen[cs]e|inconvenience)\s+"
    r"(?:that\s+)?(?:may|might))\b|\bmay\s+have\s+(?:felt|been\s+offended|caused)", _FLAGS)
CONDITIONAL_KO = re.compile(
    r"(?:불편|불쾌|상처|피해|오해|심려|느끼|끼쳐|끼쳤|드렸|되셨|받으셨|겪으셨|하셨|했|였|었|았)[가-힣\s]{0,6}?"
    r"(?:다면|셨다면|으시다면|는\s*점이\s*있다면)", _FLAGS)

BLAMES_CUSTOMER = re.compile(
    r"(?:due\s+to|because\s+of|as\s+a\s+result\s+of|caused\s+by)\s+your\s+(?:own\s+)?"
    r"(?:mistake|error|fault|negligence|carelessness|misuse|failure)|"
    r"\byour\s+(?:own\s+)?(?:mistake|error|fault|negligence|carelessness)\s+(?:caused|led|resulted)|"
    r"\bbecause\s+you\s+(?:failed|did\s*n[o']t|forgot|neglected|entered|chose|ignored)|"
    r"\byou\s+should\s+have\b|\b(?:customer|user)\s+error\b|\bon\s+your\s+part\b|"
    r"(?:고객님?|귀하|본인|손님)(?:께서|의|이|가)?\s*(?:[가-힣]+\s*){0,3}?(?:부주의|실수|과실|잘못|착오|오용|소홀)|"
    r"고객\s*과실|고객\s*책임", _FLAGS)

BLAMES_EMPLOYEE = re.compile(
    r"(?:담당|해당|한|일부|신입|아르바이트|현장)?\s*(?:직원|사원|상담원|배송기사|기사|알바생?)(?:의|이|가)\s*"
    r"(?:[가-힣]+\s*){0,2}?(?:실수|부주의|잘못|과실|착오)|"
    r"\b(?:an?|one\s+of\s+our|the)\s+(?:employee|staff\s+member|agent|driver|worker|intern)(?:'s)?\s+"
    r"(?:\w+\s+){0,2}?(?:mistake|error|fault|negligence|carelessness)", _FLAGS)

TIME_REF = re.compile(
    r"\b\d{1,2}:\d{2}\b|\b\d{4}-\d{1,2}-\d{1,2}\b|\d{1,2}\s*월\s*\d{1,2}\s*일|(?:오전|오후|새벽|아침|저녁|밤)\s*\d|"
    r"\d{1,2}\s*시|어제|오늘|그제|지난\s*(?:주|밤|달|\d)|이번\s*주|주말|"
    r"\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?\s+\d{1,2}\b|"
    r"\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|"
    r"\b(?:yesterday|today|last\s+(?:night|week|weekend|monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday)|this\s+(?:morning|afternoon|week)|on\s+(?:monday|tuesday|wednesday|thursday|"
    r"friday|saturday|sunday))\b|\b\d{1,2}\s*(?:am|pm|a\.m\.|p\.m\.)", _FLAGS)

CAUSE = re.compile(
    r"\bcaused?\b|\bbecause\b|\bdue\s+to\b|\breason\b|\bthe\s+result\s+of\b|\bstemmed\s+from\b|"
    r"\bwas\s+triggered\s+by\b|\broot\s+cause\b|원인|때문|(?:으로|로)\s*인(?:해|하여|한)|탓|(?:에서|로)\s*비롯", _FLAGS)

# What the customer gets, or what was done for them (not incident-wide mitigation).
REMEDY = re.compile(
    r"refund|replacement|replace\s+your|coupon|voucher|credit|compensat|reimburs|free\s+of\s+charge|"
    r"discount|extension|extend(?:ed)?\s+your|we\s+(?:have\s+)?(?:re-?sent|redelivered|reversed|"
    r"cancelled\s+the\s+charge|corrected\s+your)|환불|교환|재발송|재배송|쿠폰|할인|적립|보상|배상|지급|"
    r"무상|기간\s*연장|연장해\s*드|돌려드|결제\s*취소", _FLAGS)

PREVENTION_CUE = re.compile(
    r"prevent|never\s+again|not\s+happen\s+again|again|from\s+now\s+on|going\s+forward|in\s+future|"
    r"will\s+change|what\s+will\s+change|we\s+have\s+(?:changed|added|introduced)|재발|방지|앞으로|"
    r"달라지|바꾸|바뀌|개선", _FLAGS)
CONCRETE_ACTION = re.compile(
    r"\b(?:add|introduc|chang|fix|install|train|hir|updat|review|check|test|deploy|automat|replac|"
    r"audit|remov|set\s+up|requir|block|alert|monitor|inspect|verif|rewrit|redesign|roll(?:ed)?\s+out|"
    r"schedul|limit|separat|retir|switch|migrat|document)\w*|"
    r"도입|변경|수정|교육|점검|추가|설치|검사|검수|검증|자동화|교체|채용|배치|분리|차단|알림|모니터링|"
    r"개편|신설|시행|적용|의무화|이중\s*확인|재설계|마련", _FLAGS)
VAGUE = re.compile(
    r"(?:we\s+will|we'll|we\s+promise\s+to)\s+(?:do\s+our\s+(?:very\s+)?best|try\s+(?:our\s+best|harder)|"
    r"strive|make\s+every\s+effort|work\s+hard(?:er)?|endeavou?r|be\s+more\s+careful)|"
    r"최선을\s*다하(?:겠|도록)|노력하겠|노력하도록|만전을\s*기하|각별히\s*(?:유의|주의)|더욱\s*신경\s*쓰|"
    r"다시는\s*이런\s*일이\s*없도록\s*하겠", _FLAGS)

CONTACT = re.compile(
    r"[\w.+-]+@[\w-]+\.[\w.-]+|(?:\+?\d[\d\s-]{7,}\d)|\bcontact\b|\breach\s+(?:me|us)\b|\bcall\s+(?:me|us)\b|"
    r"\bemail\s+(?:me|us)\b|\bwrite\s+to\s+(?:me|us)\b|연락|문의|전화|이메일|메일", _FLAGS)

HEADING = re.compile(r"^\s{0,3}#{1,6}[^\n]*$", re.MULTILINE)

TITLE_WORDS = re.compile(
    r"대표(?:이사)?|사장|부사장|이사|본부장|실장|부장|팀장|센터장|매니저|책임자|리드|과장|차장|상무|전무|"
    r"\b(?:CEO|COO|CTO|CFO|CXO|head|lead|manager|director|officer|chief|president|vp|founder|"
    r"supervisor|owner|agent|specialist|representative)\b|상담원|담당자|주임|대리|선임|수석|파트장|그룹장|총괄",
    re.IGNORECASE)
HANGUL_NAME = re.compile(r"(?<![가-힣])[가-힣]{2,4}(?![가-힣])")
LATIN_NAME = re.compile(r"\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)+\b")

SENTENCE = re.compile(r"[^.!?。\n]+[.!?。]?", re.MULTILINE)


def _sentences(text: str) -> Iterable[tuple[int, int, str]]:
    for match in SENTENCE.finditer(text):
        if match.group().strip():
            yield match.start(), match.end(), match.group()


def _signature_block(text: str) -> tuple[int, str]:
    """The last few non-empty lines: where a letter is signed."""
    lines = [m for m in re.finditer(r"[^\n]+", text) if m.group().strip()]
    tail = lines[-8:]
    if not tail:
        return len(text), ""
    return tail[0].start(), text[tail[0].start():]


def _named_signatory(block: str, people: Iterable[Person]) -> bool:
    people = list(people)
    if people:
        return any(p.name and p.name in block and (not p.title or p.title in block) for p in people)
    for line in block.splitlines():
        if COLLECTIVE.search(line):
            continue
        if TITLE_WORDS.search(line) and (HANGUL_NAME.search(TITLE_WORDS.sub("", line))
                                         or LATIN_NAME.search(line)):
            return True
    # "Name" on one line and "Title" on the next, as drafts are signed.
    lines = [ln.strip() for ln in block.splitlines() if ln.strip()]
    for name, title in zip(lines, lines[1:], strict=False):
        if TITLE_WORDS.search(title) and (HANGUL_NAME.fullmatch(name) or LATIN_NAME.fullmatch(name)):
            return True
    return False


def _finding(code: str, span: tuple[int, int] | None = None) -> Finding:
    return Finding(code, SEVERITY.get(code, ERROR), MESSAGES[code], span)


def check(text: str, language: str = "ko", people: Iterable[Person] = ()) -> list[Finding]:
    """Findings for an apology `text`; `people` (known staff) sharpens the signature rule.

    `language` is a hint only: both languages' rules run, since letters mix them.
    """
    if not isinstance(text, str):
        raise TypeError("text must be a string")
    findings: list[Finding] = []
    body_end, block = _signature_block(text)
    # Headings name sections; only sentences state facts, so a bare heading counts for nothing.
    body = HEADING.sub(lambda m: " " * len(m.group()), text)

    named = _named_signatory(block, people)
    collective = COLLECTIVE.search(block)
    if not named:
        if collective:
            span = (body_end + collective.start(), body_end + collective.end())
            findings.append(_finding("collective_signature", span))
        else:
            findings.append(_finding("no_named_signatory"))

    for start, _end, sentence in _sentences(text):
        if not APOLOGY_WORD.search(sentence):
            continue
        for pattern in (CONDITIONAL_EN, CONDITIONAL_KO):
            match = pattern.search(sentence)
            if match:
                findings.append(_finding("conditional_apology",
                                         (start + match.start(), start + match.end())))
                break

    for pattern, code in ((BLAMES_CUSTOMER, "blames_customer"), (BLAMES_EMPLOYEE, "blames_employee")):
        for match in pattern.finditer(text):
            findings.append(_finding(code, (match.start(), match.end())))

    for match in PLACEHOLDER.finditer(text):
        findings.append(_finding("placeholder_left", (match.start(), match.end())))

    if not TIME_REF.search(body) or len(body.strip()) < 60:
        findings.append(_finding("missing_facts"))
    if not CAUSE.search(body):
        findings.append(_finding("missing_cause"))
    if not REMEDY.search(body):
        findings.append(_finding("missing_remedy"))
    concrete = any(PREVENTION_CUE.search(s) and CONCRETE_ACTION.search(s)
                   for _s, _e, s in _sentences(body)) or _prevention_list(text)
    if not concrete:
        vague = VAGUE.search(body)
        if vague:
            findings.append(_finding("vague_promise", (vague.start(), vague.end())))
        else:
            findings.append(_finding("missing_prevention"))
    if not CONTACT.search(text):
        findings.append(_finding("missing_contact"))
    return findings


def _prevention_list(body: str) -> bool:
    """A heading about prevention followed by list items counts as concrete changes."""
    for heading in re.finditer(r"^#{1,6}[^\n]*$|^[^\n]{1,60}:\s*$", body, re.MULTILINE):
        if PREVENTION_CUE.search(heading.group()):
            after = body[heading.end():heading.end() + 600]
            items = re.findall(r"^\s*(?:[-*+]|\d+\.)\s+\S.{3,}$", after, re.MULTILINE)
            if items:
                return True
    return False


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity == ERROR for f in findings)
