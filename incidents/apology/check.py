"""The apology check: a pure function over any text, Korean or English.

It flags what makes apologies backfire (DOMAIN.md section 5): no named person
signs, only a collective signs, the apology is conditional, the customer is
blamed, facts, cause, remedy, prevention or contact are missing, placeholders
are left, or the only promise is to "do our best". Findings are advice for a
human, so each rule errs towards not flagging a good letter.

Every pattern runs on text of up to 50,000 characters typed by anyone (the
live check), so no pattern may backtrack badly: repeated groups are bounded
and their items cannot overlap (a "word" always ends in whitespace).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from app.i18n import lazy_gettext as _l

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

# One Korean word followed by spaces (never a newline): bounded and non-overlapping, so
# "(?:KO_WORD){0,3}?" cannot backtrack catastrophically over a long run of Hangul.
KO_WORD = r"[가-힣]{1,12}[^\S\n]+"
# "...이/가 아닙니다", "...은 전혀 없습니다": the fault is denied, which is a good thing to say.
KO_DENIED = r"(?![이가은는도]?\s*(?:전혀\s*|결코\s*|절대\s*)?(?:아니|아닌|아닙|아님|없))"

# "[원인 확인 중]" is a placeholder; a Markdown link "[text](url)" and a task box "[ ]" are not.
PLACEHOLDER = re.compile(r"\[(?!\s*[xX ]?\s*\])[^\[\]\n]{1,120}\](?!\()")
# Korean notices are often headed "[공지]" or "[사과문]": a label, not a gap to fill.
NOTICE_TAG = re.compile(
    r"^[^\S\n]*(?:#{1,6}[^\S\n]*)?\[(?:공지|공지사항|안내|알림|사과문|사과드립니다|notice|update|"
    r"apology|important)\]", _FLAGS)

# "일동" means "all members of": whatever precedes it, nobody in particular signs.
COLLECTIVE = re.compile(
    r"(?:[가-힣A-Za-z]{1,20}[^\S\n]*)?일동|(?:모든|전[^\S\n]*)[^\S\n]*임직원|임직원[^\S\n]*모두|"
    r"all\s+(?:of\s+(?:our|the)\s+)?(?:employees|staff)|all\s+of\s+us\s+at\b|"
    r"the\s+management(?:\s+team)?|(?:the\s+)?(?:whole|entire)\s+team\s+at\b|"
    r"the\s+(?:staff|employees)\s+of\b|(?:the|your)\s+(?:[A-Z][\w&'-]*\s+){0,3}team\b", _FLAGS)

# A sentence that apologises AND makes the harm hypothetical. "apolog" covers apology,
# apologies, apologise, apologize; "regret" is how hedged corporate apologies are worded.
APOLOGY_WORD = re.compile(r"sorry|apolog|regret|사과|죄송|송구|유감", _FLAGS)
_HYPOTHETICAL_HARM = (r"(?:offend|upset|hurt|inconvenien|felt|feel|experienc|caus|disappoint|"
                      r"misunderst|affected|troubl)")
CONDITIONAL_EN = re.compile(
    # "We apologize if ...", "Apologies if ...", "sorry for any inconvenience if ...": the
    # condition hangs on the apology itself. Words in between are only a noun phrase
    # ("for any trouble"), never a new clause ("sorry, and we will call you if ..."), so a
    # promise that happens to contain "if" is not mistaken for a condition.
    r"\b(?:sorry|apologi[sz]e|apologies|regret(?:\s+it)?)"
    r"(?:\s+(?:for|to|about|the|any|all|this|that|it|of|inconvenience|trouble|confusion|"
    r"frustration|distress|offen[cs]e|upset|harm|deeply|truly|sincerely|very|so|much|caused)\b){0,6}"
    r",?\s+(?:if\b|in\s+case\b|to\s+the\s+extent\b|should\s+you\b|"
    r"to\s+anyone\s+who\s+(?:was|were|is|felt|may|might)\b)|"
    # "If anyone was offended, we apologise": the hypothetical clause comes first. "If we
    # had tested it, ..." is a counterfactual that owns the fault, so "we had" is excluded.
    r"\b(?:if|in\s+case|to\s+the\s+extent(?:\s+that)?)\s+(?:anyone|any\s+(?:one|of\s+you|customers?)|"
    r"you|some(?:one|\s+customers?)?|we\s+(?:have|may\s+have|might\s+have))\b[^.!?\n,]{0,80}?"
    r"\b" + _HYPOTHETICAL_HARM + r"[^.!?\n,]{0,80},\s*(?:[\w']+\s+){0,4}?(?:sorry|apolog|regret)|"
    # Hedges that doubt the harm: "any inconvenience this may have caused".
    r"\b(?:may|might|could)\s+have\s+(?:felt|been\s+offended|been\s+caused|caused|been\s+upset)|"
    r"\bsorry\s+(?:that\s+)?you\s+(?:feel|felt)\b", _FLAGS)
CONDITIONAL_KO = re.compile(
    # "~다면 사과드립니다": the condition sits right before the apology verb (at most a comma
    # and two adverbs between). "확인했다면 피해를 막을 수 있었습니다" (a counterfactual that
    # owns the fault) and "추가 피해가 있었다면 알려 주십시오" are not conditional apologies.
    r"[가-힣]{1,12}(?:다면|라면|으셨으면|셨으면)(?:[^\S\n]*,)?[^\S\n]*(?:" + KO_WORD + r"){0,2}?"
    r"(?:사과|죄송|송구|유감)|"
    # "불편을 드렸을 수 있는 점 사과드립니다": "may have caused".
    r"(?:드렸|끼쳤|끼쳐\s*드렸|있었|겪으셨|느끼셨)을\s*수\s*(?:도\s*)?있는", _FLAGS)

# Blame on the customer. The Korean rules need the customer as the subject ("고객님께서",
# "고객님이") or the owner ("고객님의", "고객님 측의") of the fault, never the receiver
# ("고객님께 잘못 안내해 드렸습니다" is our mistake); words in between are objects or bare
# nouns ("주소를", "주소 입력"), so "고객님의 주문 처리 과정에서 착오" (our error in handling
# your order) is not blame; "잘못된/잘못되" (something went wrong) and a denied fault
# ("고객님의 잘못이 아닙니다") are not blame either.
_KO_WHO = r"(?:고객님|귀하|회원님|고객|본인|손님|구매자|이용자|사용자)"
_KO_OWNER = _KO_WHO + r"(?:의|[^\S\n]*측의?)[^\S\n]*"
_KO_SUBJECT = _KO_WHO + r"(?:께서|이|가)[^\S\n]+"
_KO_NOUN = r"[가-힣]{1,10}(?<![에서로과와도은는신한된던고며])[^\S\n]+"
_KO_OBJECT = r"[가-힣]{0,10}[을를][^\S\n]+"
_KO_FAULT = (r"(?:부주의|실수|과실|착오|오용|소홀|"
             r"잘못(?!된|되|[^\S\n]*(?:안내|전달|발송|배송|청구|결제|처리|고지|출고)))")
BLAMES_CUSTOMER = re.compile(
    r"(?<!not\s)(?<!n't\s)(?<!no\sway\s)\b(?:due\s+to|because\s+of|as\s+a\s+result\s+of|caused\s+by|"
    r"owing\s+to|resulting\s+from)\s+your\s+(?:own\s+)?(?:[a-z]+\s+)?"
    r"(?:mistake|error|fault|negligence|carelessness|misuse|failure|oversight)|"
    r"\byour\s+(?:own\s+)?(?:mistake|error|fault|negligence|carelessness|oversight)\s+"
    r"(?:caused|led|resulted)|"
    r"\bbecause\s+you\s+(?:[a-z]+\s+)?(?:failed|did\s*n[o']t|forgot|neglected|entered|chose|"
    r"ignored|typed|selected|missed|provided|gave)\b|"
    r"\byou\s+(?:failed|neglected|forgot)\s+to\b|"
    # "You should have received an e-mail" is a kind pointer; "you should have checked" blames.
    r"\byou\s+should\s+have\s+(?:checked|read|noticed|entered|known|verified|double-checked|"
    r"contacted|updated|confirmed|followed|been\s+more\s+careful)\b|"
    r"\b(?:address|information|details|number|code|data)\s+you\s+(?:entered|provided|"
    r"gave|typed|supplied)\s+(?:was|were)\s+(?:wrong|incorrect|invalid|inaccurate)|"
    r"(?<!not\sa\s)(?<!no\s)\b(?:customer|user)\s+error\b|"
    # "There is nothing you need to do on your part" is kind: only a fault on your part blames.
    r"(?<!no\s)(?<!not\s)(?<!any\s)\b(?:mistake|error|fault|negligence|oversight)\s+on\s+your\s+"
    r"(?:part|side|end)\b|"
    + _KO_OWNER + r"(?:" + _KO_NOUN + r"){0,2}?" + _KO_FAULT + KO_DENIED + "|"
    + _KO_SUBJECT + r"(?:" + _KO_OBJECT + "|" + _KO_NOUN + r"){0,3}?" + _KO_FAULT + KO_DENIED + "|"
    # "고객님께서 잘못된 주소를 입력하셔서": a wrong thing the customer did.
    + _KO_SUBJECT + r"(?:" + KO_WORD + r"){0,2}?잘못된[^\S\n]+(?:" + KO_WORD + r"){0,2}?"
    r"(?:입력|기재|선택|작성|신청|설정|누르|클릭)|"
    # "입력하신 정보가 잘못되어": what you entered was wrong.
    r"(?:입력|기재|선택|작성|제공)하신[^\S\n]+[가-힣]{1,8}[이가][^\S\n]+(?:잘못|틀리|틀려|틀렸)|"
    # "고객님께서 기한 내에 신청하지 않으셔서": because you did not.
    + _KO_SUBJECT + r"(?:" + KO_WORD + r"){0,3}?[가-힣]{0,8}지[^\S\n]*않(?:으셔서|으셨기|으신[^\S\n]*탓)|"
    r"(?:고객|본인)[^\S\n]*(?:과실|책임)(?!자)" + KO_DENIED, _FLAGS)

# A named role's fault, for the warning only: "저희 직원 교육을 새로 시행합니다" names staff
# without blaming anyone.
BLAMES_EMPLOYEE = re.compile(
    r"(?:(?:담당|해당|한|일부|신입|아르바이트|현장)[^\S\n]*)?(?:직원|사원|상담원|배송기사|기사|알바생?)"
    r"(?:의|이|가)[^\S\n]*(?:" + KO_WORD + r"){0,2}?(?:실수|부주의|잘못|과실|착오)|"
    r"\b(?:an?|one\s+of\s+our|the)\s+(?:new\s+|junior\s+|single\s+|individual\s+)?"
    r"(?:employee|staff\s+member|agent|driver|worker|intern|courier)s?(?:'s|s')?\s+"
    r"(?:\w+\s+){0,2}?(?:mistake|error|fault|negligence|carelessness)", _FLAGS)

TIME_REF = re.compile(
    r"\b\d{1,2}:\d{2}\b|\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{4}\.[^\S\n]*\d{1,2}\.[^\S\n]*\d{1,2}\b|"
    r"\d{1,2}\s*월\s*\d{1,2}\s*일|\d{4}\s*년|\d{1,2}\s*월\s*(?:초|중순|말)|"
    r"(?:오전|오후|새벽|아침|저녁|밤)\s*\d|\d{1,2}\s*시|어제|오늘|그제|지난\s*(?:주|밤|달|\d)|이번\s*주|주말|"
    r"[월화수목금토일]요일|"
    r"\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?\s+\d{1,2}\b|"
    r"\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|"
    r"\b(?:yesterday|today|tonight|last\s+(?:night|week|weekend|monday|tuesday|wednesday|thursday|"
    r"friday|saturday|sunday)|this\s+(?:morning|afternoon|evening|week)|on\s+(?:monday|tuesday|"
    r"wednesday|thursday|friday|saturday|sunday))\b|\b\d{1,2}\s*(?:am|pm|a\.m\.|p\.m\.)", _FLAGS)

CAUSE = re.compile(
    r"\bcaused\s+by\b|\b(?:the|a|root|main|direct)\s+cause\b|\bcause\s+(?:was|is)\b|\bbecause\b|"
    r"\bdue\s+to\b|\breason\b|\bthe\s+result\s+of\b|\bstemmed\s+from\b|\bwas\s+triggered\s+by\b|"
    # Letters often explain without the word "cause": "what went wrong: ...".
    r"\bwhat\s+went\s+wrong\b|\b(?:problem|issue|error|fault|mistake)\s+was\s+that\b|"
    r"원인|때문|(?:으로|로)\s*인(?:해|하여|한)|탓|(?:에서|로)\s*비롯|생긴\s*일", _FLAGS)
# Phrases that mention a cause without stating one: "the trouble this caused" is not even a
# mention; "원인을 파악 중입니다" and "이번 장애로 인해" say nothing about why it happened.
NO_CAUSE = re.compile(
    r"(?:investigat\w*|looking\s+into|still\s+determining|to\s+determine|find\s+out|to\s+identify|"
    r"identifying)\s+"
    r"(?:the\s+)?(?:root\s+|exact\s+|precise\s+)?cause\w*|"
    r"\bcause\s+(?:is|was|remains)\s+(?:still\s+)?(?:unknown|unclear|under\s+investigation|"
    r"being\s+investigated|not\s+yet\s+known)|"
    r"\bdue\s+to\s+(?:this|that)\s+(?:incident|issue|problem|outage|error|situation|matter)\b|"
    r"\bfor\s+(?:this|whatever|any)\s+reason\b|"
    r"원인[은는이을를]?[^\S\n]*(?:현재[^\S\n]*)?(?:파악|조사|확인|분석)[^\S\n]*"
    r"(?:중|하고[^\S\n]*있|하는[^\S\n]*대로|되는[^\S\n]*대로)|"
    r"(?<![가-힣])(?:이번|이|해당|금번)[^\S\n]*(?:일|장애|사고|문제|오류|사태|건)?[^\S\n]*(?:으로|로)[^\S\n]*인(?:해|하여|한)",
    _FLAGS)

# What the customer gets, or what was done for them (not incident-wide mitigation).
# "Your credit card was charged" and "browser extension" name no remedy.
REMEDY = re.compile(
    r"refund|replacement|replace\s+your|coupon|voucher|credit(?!\s*card)|compensat|reimburs|"
    r"free\s+of\s+charge|discount|extension\s+of|(?:service|subscription|free)\s+extension|"
    r"extend(?:ed)?\s+your|we\s+(?:have\s+)?(?:re-?sent|redelivered|reversed|"
    r"cancelled\s+the\s+charge|corrected\s+your)|환불|교환|재발송|재배송|쿠폰|할인|적립|보상|배상|지급|"
    r"무상|기간\s*연장|연장해\s*드|돌려드|결제\s*취소", _FLAGS)

# "Again, I am sorry" is not about prevention: "again" counts only with happen/occur.
PREVENTION_CUE = re.compile(
    r"prevent|never\s+again|(?:happen|occur|recur)\w*\s+again|again\s+(?:happen|occur)|"
    r"(?:cannot|can't|won't|will\s+not|does\s*n[o']t|never)\s+(?:happen|occur)|"
    r"from\s+(?:now|today|tomorrow)\s+on|going\s+forward|in\s+(?:the\s+)?future|next\s+time|"
    r"starting\s+(?:today|now|next|tomorrow|on)|"
    r"will\s+change|what\s+will\s+change|we\s+have\s+(?:changed|added|introduced)|재발|방지|앞으로|"
    r"달라지|바꾸|바뀌|개선|다시는|이제부터|(?:오늘|내일|일|주|달|월)부터", _FLAGS)
CONCRETE_ACTION = re.compile(
    r"\b(?:add|introduc|chang|fix|install|train|hir|updat|review|check|test|deploy|automat|replac|"
    r"audit|remov|set\s+up|requir|block|alert|monitor|inspect|verif|rewrit|redesign|roll(?:ed)?\s+out|"
    r"schedul|limit|separat|retir|switch|migrat|document|scan|confirm|notif|enforc|restrict|"
    r"double-check|renew)\w*|"
    r"도입|변경|수정|교육|점검|추가|설치|검사|검수|검증|자동화|교체|채용|배치|분리|차단|알림|모니터링|"
    r"개편|신설|시행|적용|의무화|이중\s*확인|재설계|마련|절차|단계|자동|재교육|매뉴얼|지침|검토|스캔|"
    r"확인(?:하|을|절차|단계)", _FLAGS)
# Effort promised instead of changes. "대책을 마련하겠습니다" names no measure at all, so its
# "마련" must not count as a concrete action.
VAGUE = re.compile(
    r"(?:we\s+will|we'll|i\s+will|i'll|we\s+promise\s+to)\s+(?:do\s+(?:our|my)\s+(?:very\s+)?best|"
    r"try\s+(?:our\s+best|harder)|strive|make\s+every\s+effort|work\s+hard(?:er)?|endeavou?r|"
    r"be\s+more\s+careful)|"
    r"최선을\s*다하(?:겠|도록)|노력하겠|노력하도록|만전을\s*기하|각별히\s*(?:유의|주의)|더욱\s*신경\s*쓰|"
    r"다시는\s*이런\s*일이\s*없도록\s*하겠|(?:대책|방안|개선책)[을를]?\s*(?:마련|강구|수립)하겠", _FLAGS)

CONTACT = re.compile(
    # An address starts where a word starts: scanning a long run of letters stays linear.
    r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}\.[\w.-]+|(?:\+?\d[\d\s-]{7,}\d)|\bcontact\b|\breach\s+(?:me|us)\b|\bcall\s+(?:me|us)\b|"
    r"\bemail\s+(?:me|us)\b|\bwrite\s+to\s+(?:me|us)\b|연락|문의|전화|이메일|메일", _FLAGS)

HEADING = re.compile(r"^\s{0,3}#{1,6}[^\n]*$", re.MULTILINE)

TITLE_WORDS = re.compile(
    r"대표(?:이사)?|사장|부사장|이사|본부장|실장|부장|팀장|센터장|매니저|책임자|리드|과장|차장|상무|전무|"
    r"\b(?:CEO|COO|CTO|CFO|CXO|head|lead|manager|director|officer|chief|president|vp|founder|"
    r"supervisor|owner|agent|specialist|representative)\b|상담원|담당자|주임|대리|선임|수석|파트장|그룹장|총괄",
    re.IGNORECASE)

# A Korean personal name: two to four syllables starting with a common surname. Without the
# surname, every short word ("고객경험", "드림") would pass for a name and a title alone
# ("고객경험팀장 드림") would count as a signature.
KO_SURNAMES = set("김이박최정강조윤장임한오서신권황안송전홍유류고문양손배백허남심노하곽성차주우구민진나지엄채"
                  "원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉사부가복"
                  "태목형피두감음빈동온호범좌팽승간상시갈단견당화창옹순빙종풍섭해근뇌판요독묵")
NOT_NAMES = {
    "고객", "고객님", "고객센터", "고객지원", "고객경험", "주식회사", "주식", "우리", "진심", "정말", "이상",
    "이번", "이만", "안녕", "문의", "전화", "연락", "연락처", "지원", "서비스", "기술", "전략", "마케팅",
    "배송", "성장", "인사", "홍보", "구매", "제품", "기획", "정보", "정책", "안전", "위원회", "임원",
    "임직원", "모든", "모두", "여러분", "한국", "서울", "오늘", "오전", "오후", "이메일", "방문", "원인",
    "조치", "도움", "유감", "송구", "성함", "심려", "신뢰", "최선", "손해", "배상", "전액", "전체",
    "전원", "공식", "공지", "현장", "함께", "변경", "추가", "추신", "설명", "마음", "위해", "기간",
    "금액", "제가", "제공", "노력", "문제", "양해", "우선", "민원", "진행", "지급", "지난", "방지",
    "운영", "물류", "품질", "보안", "재무", "법무", "총무", "영업", "개발", "디자인", "경영", "본사",
    "지점", "부서", "사업부", "감사", "사과", "다시", "한번", "드림", "올림", "일동", "직원", "상담",
}
_KO_ORG_SUFFIX = ("팀", "센터", "본부", "회사", "그룹", "사업부", "지점")
# Words of departments, companies and sign-offs: "Customer Experience Manager" and "Best
# Regards" are capitalised pairs, not names.
NOT_NAME_WORDS = {
    "customer", "customers", "service", "services", "support", "experience", "success", "care",
    "operations", "ops", "team", "department", "center", "centre", "office", "group", "division",
    "relations", "quality", "product", "engineering", "technical", "technology", "communications",
    "marketing", "sales", "delivery", "logistics", "payments", "billing", "security", "trust",
    "safety", "community", "client", "guest", "member", "executive", "senior", "general",
    "regional", "global", "vice", "assistant", "deputy", "acting", "managing", "inc", "ltd", "co",
    "corp", "company", "corporation", "regards", "sincerely", "yours", "best", "kind", "warm",
    "warmest", "faithfully", "thanks", "thank", "cheers", "apologies", "respectfully", "truly",
    "again", "dear", "with", "the", "your", "our", "all", "management", "staff", "employees",
}
LATIN_NAME = re.compile(r"\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)+\b")

SENTENCE = re.compile(r"[^.!?。\n]+[.!?。]?", re.MULTILINE)
# A line of prose, not part of a sign-off: a Korean sentence ending, or a full English
# sentence. "Please contact me: Kim Minji, Head of CX, minji@example.com." names a person
# but does not sign the letter.
KO_SENTENCE_END = re.compile(
    r"(?:니다|니까|세요|십시오|시오|어요|아요|에요|예요|해요|지요|네요|데요)[^\S\n]*(?:[.!?。~]|$)")
EN_LOWER_WORD = re.compile(r"\b[a-z]{2,}\b")
POSTSCRIPT = re.compile(r"^\s*(?:p\.\s?s\.|ps:|추신)", re.IGNORECASE)


def _sentences(text: str) -> Iterable[tuple[int, int, str]]:
    for match in SENTENCE.finditer(text):
        if match.group().strip():
            yield match.start(), match.end(), match.group()


def _is_prose(line: str) -> bool:
    line = line.strip()
    if KO_SENTENCE_END.search(line):
        return True
    return bool(re.search(r"[.!?。:]", line)) and len(EN_LOWER_WORD.findall(line)) >= 5


def _signature_block(text: str) -> tuple[int, str]:
    """The sign-off: the trailing non-empty lines (at most eight) after the last line of
    prose, stepping over a closing P.S.; returns its offset in `text` and its text."""
    lines = [m for m in re.finditer(r"[^\n]+", text) if m.group().strip()][-8:]
    while lines and POSTSCRIPT.match(lines[-1].group()):
        lines.pop()
    end = lines[-1].end() if lines else len(text)
    start = end
    for line in reversed(lines):
        if _is_prose(line.group()):
            break
        start = line.start()
    return start, text[start:end]


def _ko_name(token: str) -> bool:
    return (2 <= len(token) <= 4 and token[0] in KO_SURNAMES and token not in NOT_NAMES
            and not token.endswith(_KO_ORG_SUFFIX) and not TITLE_WORDS.search(token))


def _latin_name(candidate: str) -> bool:
    return not any(word.lower() in NOT_NAME_WORDS for word in re.split(r"[ -]", candidate))


def _has_name(line: str) -> bool:
    if any(_ko_name(token) for token in re.findall(r"[가-힣]+", line)):
        return True
    without_titles = TITLE_WORDS.sub("|", line)
    return any(_latin_name(m.group()) for m in LATIN_NAME.finditer(without_titles))


def _is_name_line(line: str) -> bool:
    line = line.strip().strip("-–—,. ")
    return _ko_name(line) or (bool(LATIN_NAME.fullmatch(line)) and _latin_name(line))


def _named_signatory(block: str, people: Iterable[Person]) -> bool:
    people = [p for p in people if p.name]
    if people:
        return any(p.name in block and (not p.title or p.title in block) for p in people)
    lines = [ln.strip() for ln in block.splitlines() if ln.strip()]
    for line in lines:
        # "김민지 팀장 외 임직원 일동" is signed by Kim Minji; the collective adds nobody.
        line = COLLECTIVE.sub("|", line)
        if TITLE_WORDS.search(line) and _has_name(line):
            return True
    # "Name" on one line and "Title" on the next, as drafts are signed.
    return any(TITLE_WORDS.search(title) and _is_name_line(name)
               for name, title in zip(lines, lines[1:], strict=False))


def _finding(code: str, span: tuple[int, int] | None = None) -> Finding:
    return Finding(code, SEVERITY.get(code, ERROR), MESSAGES[code], span)


def _blank(pattern: re.Pattern, text: str) -> str:
    """`text` with `pattern`'s matches replaced by spaces (offsets stay the same)."""
    return pattern.sub(lambda m: " " * len(m.group()), text)


def check(text: str, language: str = "ko", people: Iterable[Person] = ()) -> list[Finding]:
    """Findings for an apology `text`; `people` (known staff) sharpens the signature rule.

    `language` is a hint only: both languages' rules run, since letters mix them.
    """
    if not isinstance(text, str):
        raise TypeError("text must be a string")
    findings: list[Finding] = []
    block_start, block = _signature_block(text)
    # Headings name sections and placeholders hold a gap: only sentences state facts, so
    # "## 보상" or "- [고객님께 드릴 보상]" counts for nothing.
    body = _blank(PLACEHOLDER, _blank(HEADING, text))

    named = _named_signatory(block, people)
    collective = COLLECTIVE.search(block)
    if not named:
        if collective:
            span = (block_start + collective.start(), block_start + collective.end())
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

    for match in PLACEHOLDER.finditer(_blank(NOTICE_TAG, text)):
        findings.append(_finding("placeholder_left", (match.start(), match.end())))

    if not TIME_REF.search(body) or len(body.strip()) < 60:
        findings.append(_finding("missing_facts"))
    if not CAUSE.search(_blank(NO_CAUSE, body)):
        findings.append(_finding("missing_cause"))
    if not REMEDY.search(body):
        findings.append(_finding("missing_remedy"))
    if not (any(_concrete_change(s) for _s, _e, s in _sentences(body))
            or _prevention_list(_blank(PLACEHOLDER, text))):
        vague = VAGUE.search(body)
        if vague:
            findings.append(_finding("vague_promise", (vague.start(), vague.end())))
        else:
            findings.append(_finding("missing_prevention"))
    if not CONTACT.search(text):
        findings.append(_finding("missing_contact"))
    return findings


def _concrete_change(sentence: str) -> bool:
    """A sentence about the future that names an action, outside any vague promise."""
    return bool(PREVENTION_CUE.search(sentence) and CONCRETE_ACTION.search(_blank(VAGUE, sentence)))


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
