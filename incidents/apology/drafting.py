"""Drafts written for the customer, from what the incident says may be told them.

A letter takes only the incident's customer-facing fields (public_summary, public_harm,
public_cause and the day its telling is due, public_fix, public_change), its times, the
approved remedies and the action items: never the title, description, impact line, cause or
resolution, which staff write for each other. What is not known is said honestly ("원인은 아직
확인 중이며 3월 9일까지 알려 드리겠습니다"); what nobody has written yet is a visible [gap]
that the apology check flags and that blocks approval until it is filled.

One Jinja template per language and audience in templates/apology/letters/; a file of the
same name in instance/letters/ overrides it, so a team can reword its letters without
touching the code. The sentences that depend on grammar (amounts with their particles,
dates, remedies) are built here, in each language, and handed to the templates ready.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from flask import current_app
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError

from app import PROJECT_ROOT
from app.errors import Conflict
from app.i18n import gettext as _
from app.money import digits, to_major
from app.timeutil import as_utc
from incidents.models import Incident

LANGUAGES = ("ko", "en")

# --- words, written in each language rather than translated --------------------------------

# A public notice names the kinds of remedy, never one customer's amount.
PUBLIC_KINDS = {
    "ko": {"refund": "환불", "replacement": "교환 또는 재발송", "coupon": "할인 쿠폰",
           "credit": "적립금", "service_extension": "이용 기간 연장", "cash": "손해 배상"},
    "en": {"refund": "refunds", "replacement": "replacements", "coupon": "discount coupons",
           "credit": "service credits", "service_extension": "service extensions",
           "cash": "compensation for their losses"},
}
# Currencies a Korean reader writes after the number ("500,000원", "50달러").
KO_UNITS = {"KRW": "원", "USD": "달러", "JPY": "엔", "EUR": "유로", "CNY": "위안"}

# A Korean sentence ends in one of these; anything else is a noun phrase ("설정 변경 오류").
_KO_ENDING = re.compile(r"(?:다|요|죠|오)[.!?…]*$")
_END = re.compile(r"[.!?。…)\"'”’]$")


@dataclass
class Signatory:
    name: str
    title: str
    email: str


@dataclass
class Facts:
    """What a letter template is given. Every text is already in the letter's language and
    ready to print; an empty one is something nobody has written yet."""

    language: str
    audience: str
    customer_name: str
    summary: str              # what happened, as the customer saw it (sentences)
    detected: str             # when it was first seen: "3월 2일 오전 9시 30분"
    day: str                  # the day alone, for a heading or a subject: "3월 2일"
    harm: str                 # what it cost them (sentences)
    affected_count: str       # "1,200", or "" when not known
    cause: str                # the cause as it can be told (sentences); "" when not known
    cause_due: str            # the day the cause will be told, when it is not known yet
    fix: str                  # what was done (sentences): the incident's own words, or its times
    mitigated: str
    resolved: str
    contact: Signatory
    contact_signs: bool       # the contact is the first signatory: "write to me"
    remedies: list[str] = field(default_factory=list)    # sentences
    changes: list[str] = field(default_factory=list)     # one change a line
    signatories: list[Signatory] = field(default_factory=list)
    signature: str = ""


# --- Korean particles ------------------------------------------------------------------------

# How a trailing digit is read: 0 영, 1 일, 2 이, 3 삼, 4 사, 5 오, 6 육, 7 칠, 8 팔, 9 구.
_DIGIT_HAS_FINAL = {"0": True, "1": True, "2": False, "3": True, "4": False, "5": False,
                    "6": True, "7": True, "8": True, "9": False}


def _final(word: str) -> tuple[bool, bool]:
    """(ends in a consonant, that consonant is ㄹ) for the last sound of `word`."""
    for char in reversed(word.strip()):
        if "가" <= char <= "힣":
            final = (ord(char) - 0xAC00) % 28
            return final != 0, final == 8
        if char.isdigit():
            return _DIGIT_HAS_FINAL[char], char in "178"
        if char.isalpha():
            return char.lower() in "bcdgklmnpt", char.lower() == "l"
    return False, False


def josa(word: str, after_consonant: str, after_vowel: str) -> str:
    """`word` with the particle its last sound takes: josa("20,000원", "을", "를")."""
    consonant, rieul = _final(word)
    if after_consonant == "으로":
        return word + ("으로" if consonant and not rieul else "로")
    return word + (after_consonant if consonant else after_vowel)


def _ko_list(words: list[str]) -> str:
    """"환불", "할인 쿠폰", "적립금" -> "환불, 할인 쿠폰과 적립금"."""
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-2] + [josa(words[-2], "과", "와")]) + " " + words[-1]


def _en_list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


# --- dates, times, amounts as a reader of the language writes them ---------------------------

def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])


def local(value: datetime) -> datetime:
    return as_utc(value).astimezone(_zone())


def day(value: date, language: str, today: date) -> str:
    """"3월 9일" (the year only when it is not this year's) / "March 9, 2026"."""
    if language == "ko":
        text = f"{value.month}월 {value.day}일"
        return text if value.year == today.year else f"{value.year}년 {text}"
    return format_date(value, "MMMM d, y", locale="en")


def moment(value: datetime | None, language: str, today: date) -> str:
    """"3월 2일 오전 9시 30분" / "March 2, 2026 at 9:30 AM", in the company's time zone."""
    if value is None:
        return ""
    value = local(value)
    if language == "ko":
        hour = value.hour % 12 or 12
        text = f"{day(value.date(), 'ko', today)} {'오전' if value.hour < 12 else '오후'} {hour}시"
        return text + (f" {value.minute}분" if value.minute else "")
    return format_datetime(value, "MMMM d, y 'at' h:mm a", locale="en")


def amount(minor: int, currency: str, language: str) -> str:
    """"500,000원" / "KRW 500,000"; other currencies by their code in English."""
    places = digits(currency)
    number = format_decimal(to_major(minor, currency),
                            format="#,##0" + ("." + "0" * places if places else ""), locale="en")
    if language == "ko" and currency in KO_UNITS:
        return f"{number}{KO_UNITS[currency]}"
    return f"{currency} {number}"


# --- sentences -------------------------------------------------------------------------------

def sentences(text: str, language: str) -> str:
    """Text typed by staff as the sentences of one paragraph: lines joined, a full stop at
    the end if it has none."""
    text = " ".join(line.strip().lstrip("-*• ").strip() for line in (text or "").splitlines())
    text = re.sub(r"\s+", " ", text).strip()
    if text and not _END.search(text):
        text += "."
    return text


def cause_sentences(text: str, language: str) -> str:
    """A cause typed as a sentence stays one; a noun phrase ("결제 서버 설정 변경 오류",
    "a faulty configuration change") is put in one."""
    plain = re.sub(r"\s+", " ", " ".join((text or "").splitlines())).strip()
    if not plain:
        return ""
    if language == "ko":
        if _END.search(plain) or _KO_ENDING.search(plain):
            return sentences(plain, language)
        return f"이번 일의 원인은 {plain}입니다."
    if _END.search(plain) or not plain[0].islower():
        return sentences(plain, language)
    return f"It was caused by {plain}."


def lines(text: str) -> list[str]:
    """One change a line, list markers dropped."""
    return [ln.strip().lstrip("-*•").strip() for ln in (text or "").splitlines()
            if ln.strip().lstrip("-*•").strip()]


def fix_sentences(incident: Incident, language: str, today: date) -> tuple[str, str, str]:
    """(what was done, mitigated, resolved): the incident's own words when it has them, else
    what its times say; while nothing is fixed, that it is being worked on."""
    mitigated = moment(incident.mitigated_at, language, today)
    resolved = moment(incident.resolved_at, language, today)
    own = sentences(incident.public_fix, language)
    ko = language == "ko"
    if own:
        if resolved:
            own += f" 문제는 {resolved}에 해결되었습니다." if ko else \
                f" The problem was fixed on {resolved}."
        return own, mitigated, resolved
    if resolved:
        text = f"{resolved}에 문제를 바로잡았습니다." if ko else f"We fixed the problem on {resolved}."
    elif mitigated:
        text = (f"{mitigated}에 피해가 더 커지지 않도록 긴급 조치를 했으며, 완전히 해결되는 대로 "
                "다시 알려 드리겠습니다." if ko else
                f"On {mitigated} we stopped the problem from getting worse; we will let you know "
                "as soon as it is fully fixed.")
    else:
        text = ("지금도 문제를 바로잡고 있으며, 해결되는 대로 바로 알려 드리겠습니다." if ko else
                "We are still working to fix it and will let you know as soon as it is fixed.")
    return text, mitigated, resolved


# What we do with each remedy: (we will, we did on <day>).
_KO_REMEDY = {
    "refund": ("{a_eul} 환불해 드리겠습니다", "{day}에 {a_eul} 환불해 드렸습니다"),
    "replacement": ("{a} 상당의 상품을 새로 보내 드리겠습니다",
                    "{day}에 {a} 상당의 상품을 새로 보내 드렸습니다"),
    "coupon": ("{a} 할인 쿠폰을 드리겠습니다", "{day}에 {a} 할인 쿠폰을 보내 드렸습니다"),
    "credit": ("적립금 {a_eul} 넣어 드리겠습니다", "{day}에 적립금 {a_eul} 넣어 드렸습니다"),
    "service_extension": ("{a} 상당만큼 이용 기간을 늘려 드리겠습니다",
                          "{day}에 {a} 상당만큼 이용 기간을 늘려 드렸습니다"),
    "cash": ("손해 배상금 {a_eul} 지급해 드리겠습니다", "{day}에 손해 배상금 {a_eul} 지급해 드렸습니다"),
}
_EN_REMEDY = {
    "refund": "a refund of {a}", "replacement": "a replacement worth {a}",
    "coupon": "a discount coupon worth {a}", "credit": "a service credit of {a}",
    "service_extension": "an extension of your service worth {a}",
    "cash": "compensation of {a} for your losses",
}


def remedy_sentences(compensations, language: str, today: date) -> list[str]:
    """What this customer gets, one sentence each: "피해에 대한 보상으로 20,000원을 환불해
    드리겠습니다." / "To make up for it, you will receive a refund of KRW 20,000."."""
    out = []
    for i, comp in enumerate(compensations):
        a = amount(comp.amount, comp.currency, language)
        paid = comp.status.value == "paid" and comp.paid_at is not None
        when = day(local(comp.paid_at).date(), language, today) if paid else ""
        if language == "ko":
            will, did = _KO_REMEDY[comp.type.value]
            clause = (did if paid else will).format(a=a, a_eul=josa(a, "을", "를"), day=when)
            out.append(("피해에 대한 보상으로 " if i == 0 else "또한 ") + clause + ".")
        else:
            thing = _EN_REMEDY[comp.type.value].format(a=a)
            if i == 0:
                clause = f"we sent you {thing} on {when}" if paid else f"you will receive {thing}"
                out.append(f"To make up for it, {clause}.")
            else:
                out.append(f"We also sent you {thing} on {when}." if paid
                           else f"You will also receive {thing}.")
    return out


def public_remedies(compensations, language: str) -> list[str]:
    """A public notice names the kinds of remedy, never one customer's amount."""
    kinds = [PUBLIC_KINDS[language][k] for k in dict.fromkeys(c.type.value for c in compensations)]
    if not kinds:
        return []
    if language == "ko":
        return [f"피해를 입으신 고객님께는 {josa(_ko_list(kinds), '으로', '로')} 보상해 드리며, "
                "한 분 한 분께 따로 자세히 안내해 드리겠습니다."]
    return [f"Customers who were affected will receive {_en_list(kinds)}; we will contact each "
            "of you with the details."]


def signature_block(signatories: list[Signatory], language: str, audience: str) -> str:
    """The signature at the foot of the letter: each signatory's name and job title, so that
    the people who answer for the letter are in the letter itself."""
    if not signatories:
        return "[서명하는 사람의 이름과 직함]" if language == "ko" else \
            "[name and title of the person signing]"
    if language == "ko":
        rows = [f"{s.title} {s.name}".strip() for s in signatories]
        if audience == "customer":
            rows[-1] += " 드림"
        return "\n".join(rows)
    if audience == "customer":
        return "\n\n".join(f"{s.name}\n{s.title}".strip() for s in signatories)
    return "\n".join(f"{s.name}, {s.title}" if s.title else s.name for s in signatories)


def gather(incident: Incident, *, audience: str, language: str, customer, compensations,
           changes: list[str], signatories: list[Signatory], contact: Signatory,
           today: date) -> Facts:
    fix, mitigated, resolved = fix_sentences(incident, language, today)
    cause = cause_sentences(incident.public_cause, language)
    count = incident.affected_count
    first = signatories[0] if signatories else None
    return Facts(
        language=language, audience=audience,
        customer_name=(customer.name or "") if customer is not None else "",
        summary=sentences(incident.public_summary, language),
        detected=moment(incident.detected_at, language, today),
        day=day(local(incident.detected_at).date(), language, today),
        harm=sentences(incident.public_harm, language),
        affected_count=f"{count:,}" if count else "",
        cause=cause,
        cause_due=(day(incident.public_cause_due, language, today)
                   if not cause and incident.public_cause_due else ""),
        fix=fix, mitigated=mitigated, resolved=resolved,
        contact=contact, contact_signs=first is not None and first.email == contact.email,
        remedies=(public_remedies(compensations, language) if audience == "public"
                  else remedy_sentences(compensations, language, today)),
        changes=list(dict.fromkeys(lines(incident.public_change) + list(changes))),
        signatories=signatories,
        signature=signature_block(signatories, language, audience))


def _environment() -> Environment:
    loaders = [FileSystemLoader(str(Path(current_app.instance_path) / "letters")),
               FileSystemLoader(str(PROJECT_ROOT / "templates" / "apology" / "letters"))]
    # Plain Markdown out, so no HTML autoescaping; StrictUndefined makes a template typo loud.
    return Environment(loader=ChoiceLoader(loaders), autoescape=False, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def contact_paragraph(contact: Signatory, language: str, signs: bool) -> str:
    """The customer letter's contact paragraph as a draft writes it: "write to me" when
    `signs` (the contact signs first), else naming the contact."""
    template = _environment().get_template(f"{language}_contact.md.j2")
    return template.render(f=SimpleNamespace(contact=contact, contact_signs=signs)).strip()


def render(facts: Facts) -> str:
    name = f"{facts.language}_{facts.audience}.md.j2"
    try:
        text = _environment().get_template(name).render(f=facts)
    except TemplateError as err:
        # A team's own template in instance/letters/ written for other facts (the old
        # f.title, say): say which, rather than fail the request.
        raise Conflict(_("The letter template %(name)s cannot be used: %(error)s",
                         name=name, error=str(err))) from err
    # Collapse the blank lines that optional sections leave behind.
    out, blank = [], 0
    for line in text.splitlines():
        blank = blank + 1 if not line.strip() else 0
        if blank <= 1:
            out.append(line.rstrip())
    return "\n".join(out).strip() + "\n"
