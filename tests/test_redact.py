"""The redactor catches every spelling of a customer's details: Markdown, invisible characters,
HTML entities, full-width forms, spaced digits, obfuscated e-mails, reordered names."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.redact import MARKER, Removed, clean, marker_for, redact

KO_MARKER = "[개인정보 삭제]"


@dataclass(frozen=True)
class Customer:
    name: str
    phone: str
    email: str
    reference: str

    @property
    def known(self) -> list[str]:
        return [self.name, self.phone, self.email, self.reference]


# --- what a reader could still read: the checks normalise the output on their own ----------

_INVISIBLE = re.compile("[\u00ad\u034f\u115f\u1160\u180e\u200b-\u200f\u2060-\u2064\u3164\ufeff\uffa0]")
_AT = re.compile(r"\s*[\[({<]\s*(?:at|@|골뱅이)\s*[\])}>]\s*|\s+(?:at|골뱅이)\s+|\s*@\s*")
_DOT = re.compile(r"\s*[\[({<]\s*(?:dot|\.|닷|점)\s*[\])}>]\s*|\s+(?:dot|닷|점)\s+|\s+\.\s*")


def seen(text: str) -> str:
    """Text as a reader takes it in: entities decoded, full width folded, no invisible
    characters, no Markdown or HTML markup, any case; until it reads the same."""
    for _ in range(4):
        text = html.unescape(_INVISIBLE.sub("", unicodedata.normalize("NFKC", text)))
        text = re.sub(r"[*_~`\\]|</?[A-Za-z][^<>]*>", "", text)
    return text.casefold()


def digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def letters(text: str) -> str:
    return "".join(c for c in text if c.isalpha())


def segments(out: str) -> list[str]:
    """The parts of an output between markers, each as a reader sees it."""
    return [seen(part) for part in re.split(re.escape(MARKER) + "|" + re.escape(KO_MARKER), out)]


def leaks(out: str, customer: Customer) -> list[str]:
    """Which of the customer's details can still be read in `out`, in any spelling."""
    found = []
    national = digits(customer.phone)
    if national.startswith("82"):
        national = "0" + national[2:]
    area = 3 if national.startswith("01") or not national.startswith("02") else 2
    phone_forms = {national, "82" + national[1:], national[area:]}
    name_parts = [letters(seen(p)) for p in customer.name.split()]
    name_forms = {"".join(name_parts), "".join(reversed(name_parts))}
    local = seen(customer.email.split("@")[0])
    reference_alnum = "".join(c for c in seen(customer.reference) if c.isalnum())
    for part in segments(out):
        part_digits, part_letters = digits(part), letters(part)
        found += [f"phone {form}" for form in phone_forms if form in part_digits]
        found += [f"name {form}" for form in name_forms if form in part_letters]
        email_view = re.sub(r"\s+", "", _DOT.sub(".", _AT.sub("@", part)))
        if local in email_view:
            found.append(f"e-mail {local}")
        if reference_alnum in "".join(c for c in part if c.isalnum()):
            found.append(f"reference {reference_alnum}")
        if digits(customer.reference) in part_digits:
            found.append(f"reference digits {digits(customer.reference)}")
    return found


# --- each class of spelling, in sentences ------------------------------------------------------

M = MARKER
HONG = Customer("홍길동", "010-2345-6789", "hong.gd@example.com", "ORD-2024-00123")
KIM = Customer("Kim Minji", "02-345-6789", "kim_minji@example.co.kr", "ACC/88/1234")

MARKDOWN = [
    (HONG, "고객 홍**길**동님이 환불을 요청함", f"고객 {M}님이 환불을 요청함"),
    (HONG, "~~홍길~~동에게 사과 메일", f"{M}에게 사과 메일"),
    (HONG, "<b>홍</b>길동님께 연락", f"{M}님께 연락"),
    (HONG, "[홍길동](mailto:hong.gd@example.com)에게 회신", f"{M}에게 회신"),
    (HONG, "[메일](mailto:hong.gd@example.com)로 회신", f"{M}로 회신"),
    (HONG, "메일 <hong.gd@example.com>으로 보냄", f"메일 {M}으로 보냄"),
    (HONG, "`010-2345-6789`로 연락", f"`{M}`로 연락"),
    (HONG, "010\\-2345\\-6789로 문자", f"{M}로 문자"),
    (HONG, "메일 __hong.gd__@example.com으로 보냄", f"메일 {M}으로 보냄"),
    (HONG, "주문 *ORD*-2024-**00123** 환불", f"주문 {M} 환불"),
    (HONG, "## 요약\n\n**홍길동**님이 _어제_ 010-2345-6789로 전화.",
     f"## 요약\n\n**{M}**님이 _어제_ {M}로 전화."),
    (KIM, "*Kim* Minji called twice", f"{M} called twice"),
    (KIM, "**Kim Minji** is the customer", f"**{M}** is the customer"),
    (KIM, "See [Kim Minji](https://crm.example.com/c/9) first", f"See {M} first"),
    (KIM, "mail `kim_minji@example.co.kr` today", f"mail `{M}` today"),
]
INVISIBLE = [
    (HONG, "010\u200b-2345-6789로 연락", f"{M}로 연락"),
    (HONG, "홍\u200b길동님이 전화", f"{M}님이 전화"),
    (HONG, "hong\u2060.gd@example\ufeff.com으로", f"{M}으로"),
    (HONG, "ORD-\u200d2024-00123 건", f"{M} 건"),
    (KIM, "Ki\u00admMinji wrote", f"{M} wrote"),
    (KIM, "Kim\u200c Min\u00adji wrote", f"{M} wrote"),
]
ENTITIES = [
    (HONG, "&#54861;길동님이 전화", f"{M}님이 전화"),
    (HONG, "&#x1112;&#x1169;&#x11BC;길동에게", f"{M}에게"),
    (HONG, "hong.gd&#64;example.com으로", f"{M}으로"),
    (HONG, "hong.gd&commat;example&period;com으로", f"{M}으로"),
    (HONG, "010&#45;2345&#x2d;6789로", f"{M}로"),
    (KIM, "Tom &amp; Kim Minji", f"Tom &amp; {M}"),
    (KIM, "kim_minji&amp;#64;example.co.kr", M),
]
DIGITS = [
    (HONG, "연락처 010 - 2345 - 6789로 연락", f"연락처 {M}로 연락"),
    (HONG, "０１０－２３４５－６７８９으로 문자", f"{M}으로 문자"),
    (HONG, "010 2345 6789에게 문자", f"{M}에게 문자"),
    (HONG, "(010) 2345-6789로 전화", f"{M}로 전화"),
    (HONG, "+82 10 2345 6789로 전화", f"{M}로 전화"),
    (HONG, "+82 (0)10-2345-6789로 전화", f"{M}로 전화"),
    (HONG, "+82-10-2345-6789로 전화", f"{M}로 전화"),
    (HONG, "+821023456789로 전화", f"{M}로 전화"),
    (HONG, "010/2345/6789로 전화", f"{M}로 전화"),
    (KIM, "office (02) 345 6789, ask for the manager", f"office {M}, ask for the manager"),
    (KIM, "abroad +82 2 345 6789 works", f"abroad {M} works"),
]
EMAILS = [
    (HONG, "hong.gd at example dot com으로 보냄", f"{M}으로 보냄"),
    (HONG, "hong.gd [at] example [dot] com으로", f"{M}으로"),
    (HONG, "hong.gd(at)example(dot)com으로", f"{M}으로"),
    (HONG, "hong.gd @ example . com으로", f"{M}으로"),
    (HONG, "hong.gd＠example．com으로", f"{M}으로"),
    (HONG, "HONG.GD AT EXAMPLE DOT COM 으로", f"{M} 으로"),
    (HONG, "hong.gd at example.com 으로", f"{M} 으로"),  # known: even with plain dots
    (KIM, "write to kim_minji {at} example {dot} co {dot} kr", f"write to {M}"),
    (HONG, "메일 hong.gd@localhost로 보냄", f"메일 {M}로 보냄"),  # known: its local part is enough
]
REFERENCES = [
    (HONG, "주문 ORD2024 00123 환불", f"주문 {M} 환불"),
    (HONG, "주문 ord-202400123 환불", f"주문 {M} 환불"),
    (HONG, "주문 ORD 2024-00123의 환불", f"주문 {M}의 환불"),
    (HONG, "주문 ORD/2024/00123로 조회", f"주문 {M}로 조회"),
    (KIM, "account ACC 88 1234 closed", f"account {M} closed"),
    (KIM, "account acc-88-1234 closed", f"account {M} closed"),
]
NAMES = [
    (HONG, "홍 길동님이 다시 전화", f"{M}님이 다시 전화"),
    (HONG, "홍 길 동에게 쿠폰 발송", f"{M}에게 쿠폰 발송"),
    (KIM, "Minji Kim called", f"{M} called"),
    (KIM, "KIM, Minji called", f"{M} called"),
    (KIM, "kim minji called", f"{M} called"),
    (KIM, "KimMinji called", f"{M} called"),
    (KIM, "Minji Kim님에게 안내", f"{M}님에게 안내"),
    (KIM, "Minji (Kim) from accounting", f"{M} from accounting"),
    (KIM, "(Kim Minji) wrote", f"({M}) wrote"),
    (KIM, "Kim-Minji wrote", f"{M} wrote"),
    (HONG, "고객명 홍-길동님께 회신", f"고객명 {M}님께 회신"),
]


@pytest.mark.parametrize(("customer", "text", "expected"),
                         MARKDOWN + INVISIBLE + ENTITIES + DIGITS + EMAILS + REFERENCES + NAMES)
def test_every_spelling_goes_and_the_sentence_stays(customer, text, expected):
    out = clean(text, customer.known)
    assert out == expected
    assert not leaks(out, customer)


@pytest.mark.parametrize("text", [
    "name at example dot org", "name [at] example [dot] org", "name(at)example(dot)com",
    "name @ example . com", "name＠example．com", "name AT example DOT com", "name&#64;example.com",
    "010 - 2345 - 6789", "０１０－２３４５－６７８９", "(010) 2345-6789", "+82 (0)10-2345-6789",
    "010\u200b-2345-6789", "`010`-`2345`-`6789`",
])
def test_unknown_contacts_in_any_spelling_go_too(text):
    assert clean(f"연락처 {text}로 연락") == f"연락처 {M}로 연락"


@pytest.mark.parametrize("text", [
    "2026 - 11 - 22", "2026 11 22", "2026. 11. 22.", "1,200,000 원", "15:30 ~ 16:00", "3 - 4일",
    "v 2.7.4", "ORD 2291", "5 * 3 = 15", "snake_case_name", "meet at the office. Then we left",
    "the outage at api.example.com", "**굵게** _기울임_ `code`",
    "[문서](https://example.com/docs)", "AT&T", "&amp;", "2024 - 2025", "1999 - 2024", "+3 points",
    "order 0012345678", "ext. 1234", "2026-11-22~2026-11-25", "handled by the parking team",
    "+3 2026-11-22", "+31 2026 - 11 - 22", "ping @oncall", "15:30~16:00",
])
def test_ordinary_text_stays(text):
    known = HONG.known + KIM.known + ["Han", "Park"]
    assert clean(text, known) == text
    assert clean(f"고객 안내: {text} 참고", known) == f"고객 안내: {text} 참고"


def test_short_latin_names_keep_their_word_edges():
    text = "Han handled it in the parking lot; **Park** parked"
    assert clean(text, ["Han", "Park"]) == f"{M} handled it in the parking lot; **{M}** parked"


def test_a_two_syllable_name_is_not_read_across_a_space():
    # "이 수정" is "this fix"; only a name of three syllables or more is matched spaced out.
    assert clean("이 수정 사항은 이수님이 확인", ["이수"]) == f"이 수정 사항은 {M}님이 확인"


def test_the_marker_reads_in_the_readers_language():
    assert marker_for("en") == MARKER == "[redacted]"
    assert marker_for("ko") == KO_MARKER
    assert marker_for("ko-KR") == KO_MARKER
    assert marker_for("fr") == MARKER
    ko = marker_for("ko")
    assert clean("홍**길**동님이 010 2345 6789로 전화", HONG.known, marker=ko) == f"{ko}님이 {ko}로 전화"
    out, removed = redact("Kim Minji wrote", KIM.known, marker=ko)
    assert out == f"{ko} wrote" and removed == [Removed("known", "Kim Minji")]


def test_a_known_value_is_reported_as_recorded_and_other_spellings_as_written():
    _out, removed = redact("홍길동님, HONG.GD@example.com, 010 2345 6789, 홍 길 동, 010-2345-6789",
                           HONG.known)
    assert removed == [Removed("known", "hong.gd@example.com"), Removed("phone", "010 2345 6789"),
                       Removed("known", "010-2345-6789"), Removed("known", "홍길동"),
                       Removed("known", "홍 길 동")]
    _out, removed = redact("메일 hong.gd&#64;example.com, 전화 (010) 2345-6789")
    assert removed == [Removed("email", "hong.gd&#64;example.com"), Removed("phone", "(010) 2345-6789")]


def test_redacting_twice_changes_nothing_more():
    text = "## 요약\n홍**길**동님(+82 10 2345 6789, hong.gd at example dot com), ORD 2024 00123"
    once = clean(text, HONG.known)
    assert clean(once, HONG.known) == once
    assert not leaks(once, HONG)


# --- properties: any mix of spellings goes; text without personal data stays ------------------

FAMILY_KO, GIVEN_KO = "곽탁편옥육", "휘혁윤찬률솔"
FAMILY_EN = ["Kwak", "Tak", "Pyeon", "Yook"]
GIVEN_EN = ["Jiwoo", "Seoyun", "Haneul", "Doyun", "Yerin", "Minjae"]
DOMAINS = ["example.com", "mail.example.co.kr", "corp-mail.net", "inbox.kr"]
KO_WORDS = ["고객", "결제", "오류", "환불", "배송", "지연", "확인", "주문", "매장", "문의", "안내",
            "사과", "쿠폰", "처리", "완료", "접수", "원인", "조치", "재발", "방지"]
EN_WORDS = ["customer", "called", "about", "the", "refund", "order", "please", "reply", "at",
            "noon", "store", "manager", "again", "today", "checkout", "error"]
PARTICLES = ["", "로", "으로", "님이", "에게", "의", "께", "님께", "에게서"]
SEPARATORS = ["-", " ", ".", " - ", "", "/", "\u2010", "\u2013", "  "]
AT_FORMS = ["@", " @ ", " at ", " AT ", "[at]", " [at] ", "(at)", " (at) ", "{at}", "＠", "&#64;"]
DOT_FORMS = [".", " . ", " dot ", " DOT ", "[dot]", " [dot] ", "(dot)", "．", "&period;"]
MARKS = [("**", "**"), ("*", "*"), ("_", "_"), ("__", "__"), ("~~", "~~"), ("~", "~"), ("`", "`"),
         ("<b>", "</b>"), ('<span class="x">', "</span>")]
INVISIBLES = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]


@st.composite
def customers(draw) -> Customer:
    if draw(st.booleans()):
        name = draw(st.sampled_from(FAMILY_KO)) + draw(st.text(GIVEN_KO, min_size=2, max_size=2))
    else:
        name = f"{draw(st.sampled_from(FAMILY_EN))} {draw(st.sampled_from(GIVEN_EN))}"
    line = f"{draw(st.integers(0, 9999)):04d}"
    if draw(st.booleans()):
        phone = f"010-{draw(st.integers(2000, 9999))}-{line}"
    else:
        area = draw(st.sampled_from(["02", "031", "051", "064"]))
        exchange = draw(st.integers(200, 999) | st.integers(2000, 9999))
        phone = f"{area}-{exchange}-{line}"
    local = (draw(st.text("qxzjvk", min_size=3, max_size=5)) + draw(st.sampled_from(["", ".", "_"]))
             + str(draw(st.integers(10, 999))))
    reference = (f"{draw(st.sampled_from(['ORD', 'ACC', 'INV', 'RMA']))}-{draw(st.integers(2020, 2029))}"
                 f"-{draw(st.integers(0, 99999)):05d}")
    return Customer(name, phone, f"{local}@{draw(st.sampled_from(DOMAINS))}", reference)


def _gaps(draw, parts: list[str], choices: list[str]) -> str:
    return parts[0] + "".join(draw(st.sampled_from(choices)) + part for part in parts[1:])


def _split(draw, group: str) -> list[str]:
    """Sometimes a group of digits is cut somewhere else: '23 45'."""
    if len(group) > 2 and draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(1, len(group) - 1))
        return [group[:at], group[at:]]
    return [group]


def name_spelling(draw, name: str) -> str:
    if " " not in name:
        return _gaps(draw, list(name), ["", "", " "])
    family, given = name.split()
    form = draw(st.sampled_from(["{f} {g}", "{g} {f}", "{F}, {g}", "{f}{g}", "{g}, {f}", "{f}  {g}"]))
    spelled = form.format(f=family, g=given, F=family.upper())
    return draw(st.sampled_from([str, str.upper, str.lower, str.title]))(spelled)


def phone_spelling(draw, phone: str) -> str:
    area, *rest = phone.split("-")
    groups = [piece for group in rest for piece in _split(draw, group)]
    body = _gaps(draw, groups, SEPARATORS)
    sep = draw(st.sampled_from(SEPARATORS))
    return draw(st.sampled_from([
        f"{area}{sep}{body}", f"({area}){sep}{body}", f"({area}) {body}",
        f"+82 {area[1:]} {body}", f"+82 (0){area[1:]}-{body}", f"+82-{area[1:]}-{body}",
        f"+82{area[1:]}{body}", f"0082-{area[1:]}-{body}",
    ]))


def email_spelling(draw, email: str) -> str:
    case = draw(st.sampled_from([str, str.upper, str.lower]))  # before the forms: &PERIOD; is none
    local, domain = case(email).split("@")
    return local + draw(st.sampled_from(AT_FORMS)) + _gaps(draw, domain.split("."), DOT_FORMS)


def reference_spelling(draw, reference: str) -> str:
    prefix, year, number = reference.split("-")
    prefix = draw(st.sampled_from([str, str.upper, str.lower, str.title]))(prefix)
    parts = [prefix, *_split(draw, year), *_split(draw, number)]
    return _gaps(draw, parts, ["-", " ", "", "/", ".", " - ", "_"])


def obfuscated(draw, text: str) -> str:
    """The spelling with Markdown, full-width forms, invisible characters and entities mixed in
    at random places."""
    for _ in range(draw(st.integers(0, 2))):
        opening, closing = draw(st.sampled_from(MARKS))
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, len(text)))
        text = text[:i] + opening + text[i:j] + closing + text[j:]
    if draw(st.integers(0, 3)) == 0:
        text = "".join("\\" + c if c in "-.()" and draw(st.booleans()) else c for c in text)
    if draw(st.integers(0, 3)) == 0:
        text = unicodedata.normalize("NFD", text)  # Hangul as conjoining jamo
    if draw(st.integers(0, 2)) == 0:
        text = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" and draw(st.booleans())
                       else "\u3000" if c == " " and draw(st.booleans()) else c for c in text)
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.sampled_from(INVISIBLES)) + text[i:]
    if draw(st.integers(0, 2)) == 0:  # characters as entities, not those of an entity already
        text = "".join(piece if piece.startswith("&") else "".join(
            draw(st.sampled_from([f"&#{ord(c)};", f"&#x{ord(c):X};", c]))
            if draw(st.integers(0, 3)) == 0 else c for c in piece)
            for piece in re.split(r"(&#?\w+;)", text))
    return text


@st.composite
def texts_with(draw, customer: Customer) -> tuple[str, list[str]]:
    """A text with every detail of the customer in some spelling, and the words around them."""
    spellings = [name_spelling(draw, customer.name), phone_spelling(draw, customer.phone),
                 email_spelling(draw, customer.email), reference_spelling(draw, customer.reference)]
    spellings = [obfuscated(draw, s) for s in spellings]
    if draw(st.booleans()):
        target = draw(st.sampled_from([f"mailto:{customer.email}", "https://crm.example.com/c/42"]))
        spellings[0] = f"[{spellings[0]}]({target})"
    parts, around = [], []
    for spelling in draw(st.permutations(spellings)):
        words = draw(st.lists(st.sampled_from(KO_WORDS + EN_WORDS), max_size=3))
        around += words
        parts.append(" ".join([*words, spelling + draw(st.sampled_from(PARTICLES))]))
    return draw(st.sampled_from([" ", ", ", ". ", "\n", "\n\n- "])).join(parts), around


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_no_spelling_of_a_customers_details_survives(data):
    customer = data.draw(customers())
    text, around = data.draw(texts_with(customer))
    out, removed = redact(text, customer.known)
    assert not leaks(out, customer), (text, out)
    assert removed
    kept = out
    for word in around:  # the sentence around them stays, word for word
        assert word in kept, (text, out, word)
        kept = kept.replace(word, "", 1)


def test_a_mix_of_spellings_for_several_customers_at_once():
    text = ("홍 길 동님(０１０－２３４５－６７８９, hong.gd [at] example [dot] com)과 "
            "*Kim* Minji (+82 2 345 6789, kim_minji&#64;example.co.kr), 주문 ORD 2024 00123, "
            "ACC/88/1234")
    out = clean(text, HONG.known + KIM.known)
    assert not leaks(out, HONG) and not leaks(out, KIM)
    assert out == f"{M}님({M}, {M})과 {M} ({M}, {M}), 주문 {M}, {M}"


# Words, dates, times, amounts, versions and references with nothing personal in them.
ORDINARY = KO_WORDS + EN_WORDS + [
    "2026-11-22", "2026.11.22", "2026/11/22", "2026 - 11 - 22", "2026. 11. 22.", "20261122",
    "2026년 11월 22일", "10:30", "15:30~16:00", "오전 9시", "29,000원", "₩29,000", "1,200,000",
    "12,345,678원", "$12.50", "3,000 원", "3.5%", "v2.7.4", "release 5.2", "ORD-2291",
    "INC-1234-5678", "CASE-2026-1122", "2024-2025", "1999-2024", "0012345678", "E-502", "30분",
    "3개", "5점", "order 12345678", "**긴급**", "_참고_", "`retry_count`", "[문서](https://example.com/a)",
    "AT&amp;T", "(주)", "#12", "2026-11-22T10:30:00", "3-4일", "+3", "+10%", "10 - 20", "1.5배",
    "@oncall", "ping @payments-team", "api.example.com", "https://status.example.com/i/42", "v2.7.4",
    "<https://example.com/docs>", "*강조*", "~취소~", "Dr.", "e.g.", "10:30 at the store",
]


@settings(max_examples=400, deadline=None)
@given(words=st.lists(st.sampled_from(ORDINARY), min_size=1, max_size=25),
       glue=st.sampled_from([" ", ", ", "\n", " / "]), customer=customers())
def test_text_without_personal_data_comes_out_unchanged(words, glue, customer):
    text = glue.join(words)
    out, removed = redact(text, customer.known)
    assert (out, removed) == (text, [])


# --- held out: written before the implementation, never tuned against -----------------------
# First run, after the implementation was done: 48 of 50 caught. The two misses were classes
# of their own, since fixed: a family name in brackets ("Jiwoo (Lee)") and a hyphen between
# the parts of a Hangul name ("박-서연").

SEOYEON = Customer("박서연", "010-4821-7356", "seoyeon.park@mailbox.kr", "ACC-7781-204")
JIWOO = Customer("Lee Jiwoo", "02-3141-5926", "jiwoo_lee@corp-mail.net", "INV/2025/00917")

HELD_OUT = [
    (SEOYEON, "고객 박**서연**님이 환불을 요청했습니다."),
    (SEOYEON, "담당자가 박~~서~~연에게 회신함"),
    (SEOYEON, "_박_서연 고객 건"),
    (SEOYEON, "박&#49436;연님께 안내 완료"),
    (SEOYEON, "&#xBC15;&#xC11C;&#xC5F0; 고객이 재문의"),
    (SEOYEON, "박\u2060서연으로부터 전화"),
    (SEOYEON, "박 서연님이 다시 전화함"),
    (SEOYEON, "박 서 연 고객님께 쿠폰 발송"),
    (JIWOO, "**LEE** Jiwoo reported the double charge"),
    (JIWOO, "Jiwoo Lee wrote again on Monday"),
    (JIWOO, "LEE, JIWOO called the store"),
    (JIWOO, "Ji\u00adwoo Lee asked for a refund"),
    (JIWOO, "See [Lee Jiwoo](https://crm.example.com/c/77) for the history"),
    (JIWOO, "Contact: `jiwoo_lee@corp-mail.net` only after 6 pm"),
    (JIWOO, "reply to jiwoo_lee&#64;corp-mail.net today"),
    (JIWOO, "reply to jiwoo_lee&#x40;corp-mail&period;net today"),
    (JIWOO, "write jiwoo_lee {at} corp-mail {dot} net please"),
    (JIWOO, "write jiwoo_lee at corp-mail dot net please"),
    (SEOYEON, "seoyeon.park＠mailbox．kr으로 메일 보냄"),
    (SEOYEON, "메일: seoyeon.park (at) mailbox (dot) kr"),
    (SEOYEON, "메일: seoyeon.park [@] mailbox [.] kr 로 회신"),
    (SEOYEON, "seoyeon.park 골뱅이 mailbox 닷 kr 로 보내 달라고 함"),
    (SEOYEON, "메일 주소 <seoyeon.park@mailbox.kr>"),
    (SEOYEON, "[메일 보내기](mailto:seoyeon.park@mailbox.kr)"),
    (SEOYEON, "&lt;seoyeon.park@mailbox.kr&gt;에게 답장"),
    (SEOYEON, "seoyeon.park&amp;#64;mailbox.kr 로 보냄"),
    (SEOYEON, "연락처 010.4821.7356로 문자"),
    (SEOYEON, "번호는 010 / 4821 / 7356 입니다"),
    (SEOYEON, "(010)4821-7356으로 전화 부탁"),
    (SEOYEON, "+82 10 4821 7356에게 문자 발송"),
    (SEOYEON, "해외 로밍: +82-(0)10-4821-7356"),
    (SEOYEON, "국제전화 0082-10-4821-7356 으로"),
    (SEOYEON, "０１０\u3000４８２１\u3000７３５６로 연락"),
    (SEOYEON, "010\u20104821\u20107356으로 연락"),
    (SEOYEON, "010\u20134821\u20137356으로 연락"),
    (SEOYEON, "0104\u200b821\u200b7356번으로 회신"),
    (SEOYEON, "`010`-`4821`-`7356`로 연락"),
    (JIWOO, "office 02\u20123141\u20125926, ask for the manager"),
    (JIWOO, "office (02)3141 5926, ask for the manager"),
    (JIWOO, "intl +82 2 3141 5926 works too"),
    (SEOYEON, "계정 ACC 7781 204 확인"),
    (SEOYEON, "계정 acc7781-204 확인"),
    (SEOYEON, "계정 ACC&#45;7781&#45;204 확인"),
    (JIWOO, "invoice INV 2025 00917 was wrong"),
    (JIWOO, "invoice inv-2025-00917 was wrong"),
    (JIWOO, "invoice *INV*/2025/**00917** was wrong"),
    (SEOYEON, "박서연(010-4821-7356) 고객, 계정 ACC-7781-204"),
    (JIWOO, "Lee\u200bJiwoo again"),
    (JIWOO, "Jiwoo (Lee) from accounting"),
    (SEOYEON, "고객명 박-서연"),
]


def test_held_out_spellings():
    missed = []
    for customer, text in HELD_OUT:
        out = clean(text, customer.known)
        if leaks(out, customer):
            missed.append((text, out, leaks(out, customer)))
    assert not missed, f"{len(missed)}/{len(HELD_OUT)} missed:\n" + "\n".join(map(repr, missed))
