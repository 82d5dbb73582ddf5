"""What the role classifier sees of a unit: its characters, its Korean morphemes (tense and
mood of the verb, content words apart from particles), its English words, and its place in
the letter (the heading above it, first or last lines, a signature-like line, a known name).

Each feature is a string with a value; text features are scaled per group so a long sentence
does not drown the few features that say where it stands.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from incidents.apology.analysis import HANGUL, Unit
from incidents.apology.codes import placeholder_spans

# Exact: an e-mail address or a telephone number (Korean 02-1234-5678, 1588-1234, 080-...;
# international +44 20 7946 0713, 1-866-555-0148, (555) 123-4567). Bounded repetitions only.
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,5}")
PHONE = re.compile(
    r"(?<![\w.-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){1,3}(?![\w-])"
    r"|(?<![\w-])1[5-9]\d{2}-\d{4}(?![\w-])")
URL = re.compile(r"https?://[^\s)]{1,200}|www\.[^\s)]{1,200}", re.IGNORECASE)
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]{0,30}")
DIGITS = re.compile(r"\d+")
# "원인: 서버 설정 오류" / "Cause: a certificate expired": a label before the content.
LABEL = re.compile(r"^\**([^:：\n]{1,24}?)\**[ \t]*[:：][ \t]*(?=\S)")
SENTENCE_END_KO = re.compile(r"(?:니다|니까|세요|시오|어요|아요|에요|예요|해요|지요|네요|데요|다)[.!?~]?$")
# Kiwi's tags that carry content; particles (J*), endings (E*) and affixes tell grammar.
CONTENT_TAGS = frozenset({"NNG", "NNP", "NNB", "NR", "NP", "VV", "VA", "VX", "VCN", "MAG", "MAJ",
                          "MM", "XR", "IC"})
GRAMMAR_TAGS = frozenset({"EP", "EF", "EC", "ETM", "ETN", "JKS", "JKO", "JKB", "JKG", "JKC", "JX",
                          "JC", "XSV", "XSA", "XSN", "VCP"})


# Cues: words and constructions that general knowledge of apologies ties to a role, in both
# languages. They are features, not rules: the classifier weighs them against everything else,
# so a cue found in a sentence that does something else costs little. Each pattern is bounded
# (gaps of at most a few dozen characters, alternations of literals) and runs in linear time.
_I = re.IGNORECASE
CUES = {name: re.compile(pattern, _I) for name, pattern in {
    "apology": r"\bsorry\b|apolog|\bregret|사과|죄송|송구|유감|용서",
    "conditional": r"\bif\b|\bin case\b|to the extent|\bshould you\b|\b(?:may|might|could) have\b|"
                   r"\bany (?:inconvenience|offen[cs]e|concern|confusion|upset)\b|"
                   r"sorry (?:that )?you (?:feel|felt)|\bwho (?:feel|felt|were offended)|"
                   r"다면|라면|셨으면|[을를]?\s?수\s?(?:도\s?)?있는|느끼셨|느끼신",
    "cause": r"\bbecause\b|\bdue to\b|\bcaused by\b|\bcause\b|\breason\b|\bresult of\b|\bstemm|"
             r"\btriggered\b|\btraced\b|\bwhy\b|\bafter (?:a|an|the|our)\b|\bwent wrong\b|"
             r"\bon us\b|\b(?:our|my) (?:own )?(?:fault|mistake|error|responsibility)\b|"
             r"\bwe (?:are|were) (?:responsible|at fault|wrong)\b|\bis ours\b|"
             r"원인|때문|(?:으로|로)\s?인(?:해|한|하여)|탓|비롯|생긴|발생한\s?것|였습니다|였던|"
             r"(?:저희|제|저의|회사의?|당사의?)\s?(?:\S{1,6}\s)?(?:책임|잘못)",
    "pending": r"investigat|\bnot yet\b|\bstill (?:looking|working|determining|checking|trying)|"
               r"\bunknown\b|\bunclear\b|\bonce we (?:know|have)|\bwill (?:report|update|share|publish|"
               r"tell|write)|\bdo not (?:yet )?know\b|\bdon't (?:yet )?know\b|"
               r"조사\s?중|조사하고|파악\s?중|파악하고|확인\s?중|확인하고\s?있|분석\s?중|밝혀지는|나오는\s?대로|"
               r"아직|알려\s?드리겠|말씀드리겠",
    "change": r"\bfrom now on\b|\bgoing forward\b|\bnow (?:\w+ ){0,2}(?:requires?|checks?|asks?|scans?|"
              r"goes?|runs?|has|have|uses?|gets?|must|need)|\bwill now\b|\bno longer\b|\bin (?:the )?future\b|"
              r"\bfrom (?:\d|next|monday|tuesday|wednesday|thursday|friday|january|february|march|april|"
              r"may|june|july|august|september|october|november|december)|\bbefore (?:it|they|every|each)\b|"
              r"\b(?:added|introduc|install|replac|requir|automat|redesign|every|each|daily|weekly)\w*|"
              r"앞으로|이제|부터|도입|추가|변경|개선|교체|강화|의무화|재발|방지|바꾸|바꿨|바뀌|신설|시행|"
              r"매일|매주|매번|모든|반드시|이중|두\s?번",
    "effort": r"\bdo (?:our|my) (?:very )?best\b|\bstrive|\bevery effort\b|\bcommitted\b|"
              r"\bcontinu\w* (?:to )?improv|\bwork(?:ing)? hard|\bseriously\b|\bwork to\b|\bongoing\b|"
              r"\bmore care|\bmore careful|\bdoing everything\b|\bkeep improving|\bbetter\b|"
              r"\bmake sure (?:this|it) (?:doesn't|does not|never|won't)|\bnever happens? again|"
              r"최선|노력|만전|유의|신경\s?쓰|각별|없도록|힘쓰|힘써|다하겠|더욱|거듭나",
    "remedy": r"refund|\bcredit|voucher|coupon|compensat|reimburs|free of charge|\bfree\b|waiv|discount|"
              r"replacement|\bresen[dt]|\bre-?sent\b|on us\b|at our cost|\bpoints\b|\boff your\b|"
              r"환불|쿠폰|보상|적립|지급|무료|무상|할인|교환|재발송|재배송|다시\s?보내|포인트|면제|"
              r"연장|돌려|취소해\s?드",
    "action": r"\brestored\b|\bfixed\b|\bstopped\b|\bremoved\b|\brecall|\bsuspended\b|\bcontacted\b|"
              r"\bnotified\b|\breported\b|\bresolved\b|\bback (?:up|online|to normal)\b|\bwithdrawn\b|"
              r"\bdeleted\b|\bblocked\b|\breset\b|\bhave (?:now )?(?:\w+ed)\b|"
              r"복구|중단|회수|삭제|조치|차단|신고|해결|정상화|재개|교체했|마쳤|완료",
    "contact": r"(?<!-)\bcall\b|\be-?mail\b|\breply\b|\bcontact\b|\breach\b|\bwrite to\b|\bphone\b|\bchat\b|"
               r"\bget in touch\b|\bmy (?:direct )?(?:number|line)\b|\bhelp ?(?:centre|center|desk)\b|"
               r"문의|연락|전화|메일|회신|답장|채팅|고객센터|상담|카카오톡|번호로",
    "harm": r"inconvenien|\bworr|frustrat|distress|\bwasted?\b|\blost\b|\bmissed\b|\bhad to\b|anxi|"
            r"stress|disappoint|\bupset|\bshock|\bunable\b|\bcouldn't\b|\bcould not\b|\bwithout\b|"
            r"\bill\b|\bsick\b|\bhurt|\binjur|\bexposed\b|\bstuck\b|\bwait(?:ed|ing)\b|"
            r"불편|걱정|심려|피해|낭비|허비|기다리|기다리시|놓치|손해|불안|고생|곤란|당황|속상|실망|아프|다치|"
            r"노출|못\s?하|없으셨|겪으|드셨",
    "time": r"\b\d{1,2}:\d{2}\b|\b\d{1,2} ?(?:am|pm|a\.m\.|p\.m\.)|\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b|"
            r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}\.? \d{1,2}\b|"
            r"\b\d{1,2}(?:st|nd|rd|th)? (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)|"
            r"\b(?:yesterday|today|tonight|last (?:night|week|month|weekend)|this (?:morning|afternoon|"
            r"evening|week))\b|\d{1,2}\s?월\s?\d{1,2}\s?일|\d{1,2}\s?시|오전|오후|새벽|어제|오늘|그제|지난|"
            r"[월화수목금토일]요일|\d{4}[.-]\s?\d{1,2}[.-]",
    "title": r"대표|사장|이사|본부장|실장|부장|팀장|센터장|매니저|책임자|점장|지점장|원장|과장|차장|상무|"
             r"전무|회장|총괄|파트장|그룹장|소장|관장|국장|\b(?:ceo|coo|cto|cfo|head|lead|manager|director|"
             r"officer|chief|president|vp|founder|owner|supervisor|chair\w*|principal|editor)\b",
    "signoff": r"드림$|올림$|배상$|\bregards\b|\bsincerely\b|\byours\b|\bbest wishes\b|^best,?$|"
               r"\bwith (?:my )?apologies\b|\bthank you\b|감사합니다|^thanks",
    "greeting": r"^(?:dear|hi|hello|hey)\b|님께$|님,$|님께,?$|안녕하세요|^to our",
    "collective": r"\bteam\b|일동|임직원|\ball (?:of us|employees|staff)\b|\bthe management\b|"
                  r"\bdepartment\b|\bon behalf of\b|직원\s?모두|가족\s?일동",
    "blame_you": r"\byour (?:own )?(?:mistake|error|fault|failure|negligence|carelessness|oversight|"
                 r"responsibility)|\byou (?:\w+ )?(?:failed|forgot|neglected|did not|didn't|chose|"
                 r"entered|selected|left|should have|were (?:responsible|required))|\bbecause you\b|"
                 r"\bas (?:stated|described|outlined|explained) in\b|\bclearly (?:states?|instructs?|says)|"
                 r"\bterms (?:and|&) conditions\b|\bour records show\b|\bmisinterpret|\bmisunderst|"
                 r"\bcorrect\b|\bnot (?:our|a) (?:fault|error)|"
                 r"(?:고객님?|회원님|귀하|손님|본인)(?:께서|의|이|가|\s?측)|입력하신|기재하신|선택하신|"
                 r"하지\s?않으셔서|않으셨|약관|명시|안내드린\s?바|오해",
    "blame_staff": r"\b(?:an?|one of our|the|a single|new|junior|our|that)\s(?:\w+ ){0,2}(?:employee|staff "
                   r"member|agent|driver|technician|engineer|worker|intern|courier|shopper|contractor|"
                   r"cashier|clerk|member of (?:our )?staff|rider|picker|packer|chef|cook|nurse|"
                   r"representative|operator)s?\b|\bhuman error\b|\bindividual\b|\b(?:he|she)\b|"
                   r"\b(?:careless|negligen|forgot|failed to|should have|did not follow|didn't follow)|"
                   r"직원|사원|상담원|상담사|기사|알바|아르바이트|담당자|신입|엔지니어|작업자|점원|매니저|"
                   r"실수|부주의|과실|착오|깜빡|누락|소홀|징계|개인의",
    "fault_word": r"\bmistake|\berror|\bfault|\bfailed|\bforgot|\bcareless|잘못|실수|부주의|과실|착오",
    "future": r"\bwill\b|'ll\b|\bgoing to\b|\bplan to\b|\bshall\b|겠|예정|계획|할\s?것",
    "past": r"\b(?:was|were|had|did)\b|\b\w+ed\b|었|았|였|했",
    "present_perfect": r"\b(?:have|has|'ve)\s(?:now |also |already |since )?(?:been )?\w+(?:ed|en|t)\b",
    "greet_thanks": r"\bthank(?:s| you) for (?:contacting|reaching|writing|your (?:letter|email|message|"
                    r"call|patience|understanding))|문의해\s?주셔서|연락\s?주셔서|기다려\s?주셔서",
}.items()}


@dataclass(frozen=True)
class Person:
    name: str
    title: str


def _norm(text: str) -> str:
    return DIGITS.sub("0", text.lower())


def _is_heading_like(unit: Unit, text: str) -> bool:
    body = unit.text.strip()
    if unit.marker == "#":
        return True
    if len(body) > 40 or not (unit.first_in_line and unit.last_in_line):
        return False
    if body.endswith((":", "：")) or (body.startswith("**") and body.endswith("**")):
        return True
    return bool(re.fullmatch(r"[\[【<][^\]】>]{1,20}[\]】>]", body))


def _signature_like(unit: Unit) -> bool:
    """A short line with no sentence ending: a name, a title, a sign-off."""
    body = unit.text.strip()
    if len(body) > 60 or not (unit.first_in_line and unit.last_in_line):
        return False
    if body.endswith((".", "!", "?", ":", "：")):
        return False
    return not SENTENCE_END_KO.search(body)


def _names(people: Iterable[Person]) -> list[str]:
    """Every form of a known person's name that may stand in a letter: "박서준", "서준",
    "Dana Cho", "Dana", "Cho"."""
    forms: set[str] = set()
    for person in people:
        name = (person.name or "").strip()
        if not name:
            continue
        forms.add(name)
        if HANGUL.search(name):
            compact = name.replace(" ", "")
            forms.add(compact)
            if len(compact) >= 3:
                forms.add(compact[1:])  # given name
        else:
            forms.update(w for w in name.split() if len(w) >= 3)
    return sorted(forms, key=len, reverse=True)


def _mask(text: str, needles: Sequence[str]) -> str:
    for needle in needles:
        if needle in text:
            text = text.replace(needle, "§")
    return text


def _char_ngrams(text: str, out: list[str]) -> None:
    text = " " + re.sub(r"\s+", " ", text) + " "
    for n in (2, 3, 4):
        for i in range(len(text) - n + 1):
            gram = text[i:i + n]
            if gram.strip():
                out.append("c" + gram)


def _morph_features(morphs: Sequence[tuple[str, str]], out: list[str]) -> None:
    prev = "^"
    eps: list[str] = []
    last_pred = ""
    for form, tag in morphs:
        if tag.startswith(("S", "W")) and tag not in ("SN",):
            continue
        if tag == "SN":
            form = "0"
        out.append(f"m{form}/{tag}")
        key = f"{form}/{tag}" if tag in GRAMMAR_TAGS or tag in CONTENT_TAGS else tag
        out.append(f"b{prev}_{key}")
        prev = key
        if tag in ("VV", "VA", "VX") or (tag in ("XSV", "XSA")):
            last_pred = form
            eps = []
        elif tag == "EP":
            eps.append(form)
            out.append(f"p{last_pred}+{form}")
        elif tag == "EF":
            out.append(f"f{form}")
            out.append(f"e{'+'.join(eps) or '-'}")
        elif tag in ("EC", "ETM", "ETN"):
            out.append(f"k{form}/{tag}")
    out.append(f"b{prev}_$")


def _word_features(text: str, out: list[str]) -> None:
    words = [w.lower().replace("’", "'") for w in LATIN_WORD.findall(text)]
    prev = "^"
    for word in words:
        out.append("w" + word)
        out.append(f"v{prev}_{word}")
        prev = word
    if words:
        out.append(f"v{prev}_$")


def letter_features(text: str, units: Sequence[Unit], people: Iterable[Person] = (),
                    language: str = "ko") -> list[dict[str, float]]:
    """One feature dict per unit of `text`."""
    people = list(people)
    names = tuple(_names(people))
    titles = sorted({p.title.strip() for p in people if p.title and p.title.strip()}, key=len,
                    reverse=True)
    holes = placeholder_spans(text)
    count = len(units)
    lines = sorted({u.line for u in units})
    line_rank = {line: i for i, line in enumerate(lines)}
    n_lines = len(lines)
    short = len(text.strip()) <= 320
    headings = [_is_heading_like(u, text) for u in units]
    signature = [_signature_like(u) for u in units]
    flags_of: list[list[str]] = []
    for i, unit in enumerate(units):
        body = unit.text
        flags = []
        if any(name in body for name in names):
            flags.append("known_name")
        if any(title in body for title in titles):
            flags.append("known_title")
        own = _own(unit.text, unit.morphs, names)
        flags.extend(own[1])
        if any(a < unit.end and unit.start < b for a, b in holes):
            flags.append("placeholder")
        if headings[i]:
            flags.append("heading_like")
        if signature[i]:
            flags.append("signature_like")
        flags.extend(own[2])
        flags_of.append(flags)

    out: list[dict[str, float]] = []
    heading_words: list[str] = []
    for i, unit in enumerate(units):
        if i and headings[i - 1] and units[i - 1].line != unit.line:
            heading_words = _heading_words(units[i - 1])
        own, _contacts, _flags, classes = _own(unit.text, unit.morphs, names)
        features: dict[str, float] = dict(own)

        flag = features.__setitem__
        flag("bias_" + language, 1.0)
        if HANGUL.search(unit.text):
            flag("hangul", 1.0)
        for name in flags_of[i]:
            flag("f_" + name, 1.0)
        semantic_features(set(classes), features)
        for name in flags_of[i - 1] if i else ("start",):
            flag("prev_" + name, 1.0)
        for name in flags_of[i + 1] if i + 1 < count else ("end",):
            flag("next_" + name, 1.0)
        rank = line_rank[unit.line]
        from_end = n_lines - 1 - rank
        flag(f"line_from_start_{min(rank, 3)}", 1.0)
        flag(f"line_from_end_{min(from_end, 3)}", 1.0)
        flag(f"unit_pos_{min(4, int(5 * i / max(count, 1)))}", 1.0)
        if short:
            flag("short_letter", 1.0)
        flag("marker_" + (unit.marker or "none"), 1.0)
        if unit.first_in_line and unit.last_in_line:
            flag("whole_line", 1.0)
        elif unit.first_in_line:
            flag("line_first", 1.0)
        else:
            flag("line_later", 1.0)
        length = len(unit.text)
        flag(f"len_{0 if length < 15 else 1 if length < 40 else 2 if length < 100 else 3}", 1.0)
        label = LABEL.match(unit.text)
        if label:
            for word in _words_of(label.group(1)):
                flag("label_" + word, 1.0)
        for word in heading_words:
            flag("under_" + word, 0.5)
        if not heading_words:
            flag("under_none", 1.0)
        out.append(features)
    return out


# About 30 KB a unit (tracemalloc): 1,024 units, some twenty long letters, about 30 MB a process.
@functools.lru_cache(maxsize=1024)
def _own(text: str, morphs: tuple[tuple[str, str], ...], names: tuple[str, ...]
         ) -> tuple[tuple[tuple[str, float], ...], tuple[str, ...], tuple[str, ...],
                    frozenset[str]]:
    """What a unit's own words give, wherever it stands in the letter: its n-gram, morpheme
    and word features, its flags (contact details; the rest) and its grammar classes. Kept for the units seen last: while
    a writer types, every line but one is the same as at the last check."""
    features: dict[str, float] = {}
    body = _mask(text, names)
    grams: list[str] = []
    _char_ngrams(_norm(body), grams)
    _scaled(features, grams)
    morph_grams: list[str] = []
    _morph_features(morphs, morph_grams)
    _scaled(features, morph_grams if morphs else [])
    words: list[str] = []
    _word_features(body, words)
    _scaled(features, words)
    contacts = tuple(name for name, pattern in (("email", EMAIL), ("phone", PHONE), ("url", URL))
                     if pattern.search(text))
    flags = []
    if any(tag == "NNP" for _f, tag in morphs):
        flags.append("nnp")
    if CAP_PAIR.search(text):
        flags.append("cap_pair")
    flags.extend("q_" + name for name, cue in CUES.items() if cue.search(text))
    return tuple(features.items()), contacts, tuple(flags), frozenset(_classes(text, morphs))


CAP_PAIR = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]+ [A-Z][a-z]+")


def _words_of(text: str) -> list[str]:
    text = _norm(text)
    words = re.findall(r"[가-힣]{1,10}|[a-z]{2,20}", text)
    # Korean headings are compounds ("재발방지대책"): their syllable pairs carry the meaning.
    pairs = [w[j:j + 2] for w in words if HANGUL.match(w) and len(w) > 2 for j in range(len(w) - 1)]
    return sorted(set(words) | set(pairs))


def _heading_words(unit: Unit) -> list[str]:
    return _words_of(unit.text)


def _scaled(features: dict[str, float], grams: list[str]) -> None:
    if not grams:
        return
    weight = 1.0 / math.sqrt(len(grams))
    for gram in grams:
        features[gram] = features.get(gram, 0.0) + weight


# --- who did what: the sentence's grammar reduced to a few classes ------------------------------
#
# Whether a sentence blames the customer, blames one employee, apologises on a condition or
# promises a change is told less by its words than by who is the agent and what the verb's tense
# and mood are: "고객님께서 ... 누르셔서" (the customer, honorific, as the cause), "근무자 한 명이
# ... 어기고" (one staff member as agent of a fault), "느끼셨다면 사과드립니다" (a condition
# governing the apology), "추가하겠습니다" (future) against "추가했습니다" (past). Each sentence
# gets a few such classes, the same names in both languages so what is learnt from one language
# carries over to the other, and every pair of them, so a linear model can weigh "customer as
# agent" together with "causal clause" without learning each phrase.

def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_CUSTOMER_NOUNS = _set("고객 회원 손님 귀하 이용자 사용자 구매자 본인 승객 환자 학부모 보호자 "
                       "가입자 투숙객 주문자 소비자 시청자 구독자")
_STAFF_NOUNS = _set("직원 기사 상담원 상담사 근무자 담당자 작업자 점원 알바 아르바이트 사원 "
                    "엔지니어 신입 배송원 배달원 라이더 교사 간호사 요리사 셰프 조리사 매니저 "
                    "관리자 운전자 운전기사 판매원 캐셔 강사 직원분 인턴 개발자 운영자 기사님 "
                    "종업원 매장직원 점원분 동료 협력사 하청")
_WE_NOUNS = _set("저희 저 제 우리 당사 회사 본사 경영진")
_FAULT_FORMS = _set("잘못 실수 착오 부주의 과실 누락 어기 깜빡 소홀 위반 태만 무시 빠뜨리 "
                    "놓치 오류 부실")
_CAUSAL_EC = _set("어서 아서 여서 서 니까 으니까 므로 으므로 니 으니")
_CONDITION_EC = _set("면 으면 다면 라면 는다면 ㄴ다면 ᆫ다면 었다면 거든 더라도 어도 아도")
_NEGATION = frozenset({("않", "VX"), ("못", "MAG"), ("없", "VA"), ("안", "MAG"), ("않", "VV"),
                       ("못하", "VX"), ("말", "VX")})
_APOLOGY_FORMS = _set("사과 죄송 송구 유감 용서 사죄")
_REQUEST_EF = _set("세요 으세요 십시오 으십시오 시오 주세요")

_EN = {name: re.compile(pattern, _I) for name, pattern in {
    "cust_agent": r"\byou(?:'ve| have| had)?\s(?:\w{1,12}ly\s)?(?:\w{1,20}ed|did|didn't|did not|were|"
                  r"was|chose|left|forgot|set|put|gave|made|ran|sent|wrote|took|paid|used|"
                  r"ordered|clicked|typed|missed|failed|neglected|ignored|gave|broke)\b|"
                  r"\byour (?:own )?(?:mistake|error|fault|failure|oversight|choice|decision)|"
                  r"\bbecause you\b|\b(?:on|in|from) your (?:account|settings|profile|order form)\b",
    "staff_agent": r"\b(?:a|an|one|one of our|our|the|that|this|a single|a new|a junior)\s"
                   r"(?:[a-z-]{1,20}\s){0,2}(?:employee|staff member|agent|driver|technician|"
                   r"engineer|worker|intern|courier|shopper|contractor|cashier|clerk|colleague|"
                   r"rider|picker|packer|chef|cook|nurse|representative|operator|assistant|"
                   r"waiter|waitress|server|receptionist|teacher|manager|member of (?:[a-z]{1,12} ){0,2}staff|"
                   r"person|individual)s?\b",
    "staff_single": r"\b(?:a|an|one|one of our|a single|a new|a junior|that|this|the)\s"
                    r"(?:[a-z-]{1,20}\s){0,2}(?:employee|staff member|agent|driver|technician|"
                    r"engineer|worker|intern|courier|shopper|cashier|clerk|colleague|rider|"
                    r"picker|packer|chef|cook|nurse|representative|operator|assistant|waiter|"
                    r"waitress|receptionist|teacher|member of (?:[a-z]{1,12} ){0,2}staff|individual)\b"
                    r"(?!s)|\b(?:he|she|his|her|him)\b|\bconcerned\b",
    "we_agent": r"\b(?:we|our (?:team|company|staff|system|process|checks?))\s(?:\w{1,12}\s)?"
                r"(?:\w{1,20}ed|did|made|got|didn't|did not|failed|forgot|were|should have)\b|"
                r"\b(?:our|my) (?:own )?(?:mistake|error|fault|failure|responsibility)\b|"
                r"\bwe were wrong\b|\bon us\b",
    "fault": r"\bmistake|\berror|\bfault|\bfailed\b|\bforgot|\bcareless|\bwrong|\bneglig|"
             r"\bdid not follow|\bdidn't follow|\bignored|\bbreach|\boversight|\bshould have\b",
    "causal": r"\bbecause\b|\bdue to\b|\bcaused\b|\bas a result\b|\bled to\b|\bdown to\b|"
              r"\bresult(?:ed)? (?:of|from|in)\b|\bwhy\b|\btraced\b|\bthat is why\b|\bso\b",
    "condition": r"\bif\b|\bto the extent\b|\bshould you\b|\b(?:may|might) have\b|\bin case\b|"
                 r"\bwhoever\b|\banyone who\b|\bany (?:inconvenience|offen[cs]e|upset|hurt|distress)\b|"
                 r"\bsorry (?:that )?you (?:feel|felt)\b|\bperceived\b",
    "future": r"\bwill\b|'ll\b|\bgoing to\b|\bplan(?:s|ned)? to\b|\bshall\b|\bfrom now\b|"
              r"\bgoing forward\b|\bin future\b|\bnext\b",
    "past": r"\b(?:was|were|had|did)\b|\b[a-z]{2,20}ed\b|\b(?:sent|went|took|made|left|broke|"
            r"lost|got|ran|gave|found|told|began|came|fell|paid|sold|spent|kept)\b",
    "perfect": r"\b(?:have|has|'ve)\s(?:now |also |already |since |just )?(?:been )?[a-z]{2,20}"
               r"(?:ed|en|t)\b",
    "negation": r"\bnot\b|n't\b|\bnever\b|\bno\b|\bnobody\b|\bnothing\b",
    "request": r"\bplease\b|\bwe (?:ask|recommend|advise|suggest|encourage)|\bmake sure you\b|"
               r"\bremember to\b|\bkindly\b|\bbe sure to\b",
    "apology": r"\bsorry\b|\bapolog|\bregret",
    "customer": r"\byou\b|\byour\b",
    "we": r"\bwe\b|\bour\b|\bus\b|\bi\b|\bmy\b|\bme\b",
}.items()}


def semantic_classes(unit: Unit) -> set[str]:
    """The grammar classes of a unit (see above): Kiwi's morphemes for Korean, bounded
    patterns for English."""
    return _classes(unit.text, unit.morphs)


def _classes(body: str, morphs: Sequence[tuple[str, str]]) -> set[str]:
    found: set[str] = set()
    if morphs:
        _korean_classes(morphs, found)
    if LATIN_WORD.search(body):
        for name, pattern in _EN.items():
            if pattern.search(body):
                found.add(name)
    return found


def _korean_classes(morphs: Sequence[tuple[str, str]], found: set[str]) -> None:
    phrase: list[str] = []          # the nouns since the last particle or predicate
    after_aux_ju = False            # "-어 주시어서" thanks, it does not blame
    previous = ("", "")
    for form, tag in morphs:
        if tag in ("NNG", "NNP", "NP", "NNB", "XSN", "MM", "NR", "SN", "XPN"):
            phrase.append(form)
            if form in _APOLOGY_FORMS:
                found.add("apology")
            if form in _FAULT_FORMS:
                found.add("fault")
            if form in ("때문", "원인", "탓"):
                found.add("causal")
            if form in ("예정", "계획"):
                found.add("future")
            if form in _CUSTOMER_NOUNS:
                found.add("customer")
            if form in _WE_NOUNS and tag in ("NP", "NNG"):
                found.add("we")
            if form == "명" and previous == ("한", "MM") or form in ("개인", "해당", "한 명"):
                found.add("single")
        elif tag in ("JKS", "JKG", "JX", "JKC"):
            kind = _phrase_kind(phrase)
            if kind:
                found.add(kind + "_agent" if tag != "JKG" else kind + "_of")
                if kind == "staff" and "single" in found:
                    found.add("staff_single")
            phrase = []
        else:
            if tag in ("VV", "VA", "VX", "XSV", "XSA", "MAG"):
                if form in _FAULT_FORMS:
                    found.add("fault")
                if (form, tag) in _NEGATION:
                    found.add("negation")
                if form in ("바라", "부탁"):
                    found.add("request")
                if form == "인하":
                    found.add("causal")
                after_aux_ju = form == "주" and tag == "VX" or (after_aux_ju and tag == "EP")
            if tag == "EP":
                if form == "시":
                    found.add("honorific")
                elif form == "겠":
                    found.add("future")
                elif form in ("었", "았", "였", "ᆻ"):
                    found.add("past")
            elif tag == "EC":
                if form in _CAUSAL_EC:
                    found.add("causal")
                    if "honorific" in found and not after_aux_ju and previous == ("시", "EP"):
                        found.add("cust_agent")
                if form in _CONDITION_EC:
                    found.add("condition")
                after_aux_ju = False
            elif tag == "ETM" and form in ("ᆯ", "을") and previous[1] in ("VV", "XSV", "VX", "VA", "EP"):
                found.add("prospective")
            elif tag == "EF" and form in _REQUEST_EF:
                found.add("request")
            phrase = []
        previous = (form, tag)


def _phrase_kind(phrase: Sequence[str]) -> str:
    for noun in reversed(phrase):
        if noun in ("님", "들", "분", "한", "명", "측"):
            continue
        if noun in _CUSTOMER_NOUNS:
            return "cust"
        if noun in _STAFF_NOUNS or noun.endswith(("직원", "기사", "상담원", "근무자", "담당자")):
            return "staff"
        if noun in _WE_NOUNS:
            return "we"
        return ""
    return ""


def semantic_features(classes: set[str], features: dict[str, float]) -> None:
    """Each class and each pair of classes, as features."""
    ordered = sorted(classes)
    for i, name in enumerate(ordered):
        features["s_" + name] = 1.0
        for other in ordered[i + 1:]:
            features[f"s_{name}&{other}"] = 1.0
