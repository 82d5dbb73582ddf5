"""Drafts built from the incident's own facts, through Jinja letter templates.

One template per language and audience in templates/apology/letters/; a file
of the same name in instance/letters/ overrides it, so a team can reword its
letters without touching the code. Missing facts become visible
placeholders that the apology check flags, never silent gaps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_currency
from flask import current_app
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

from app import PROJECT_ROOT
from app.money import to_major
from incidents.models import Incident

LANGUAGES = ("ko", "en")

# Written in each language, not translated from one to the other.
TYPE_WORDS = {
    "ko": {"refund": "환불", "replacement": "교환 또는 재발송", "coupon": "할인 쿠폰",
           "credit": "적립금", "service_extension": "이용 기간 연장", "cash": "손해 배상금"},
    "en": {"refund": "A refund", "replacement": "A replacement", "coupon": "A discount coupon",
           "credit": "A service credit", "service_extension": "An extension of your service",
           "cash": "Compensation for your losses"},
}
PUBLIC_TYPE_WORDS = {
    "ko": {"refund": "환불", "replacement": "교환 또는 재발송", "coupon": "할인 쿠폰",
           "credit": "적립금 지급", "service_extension": "이용 기간 연장", "cash": "손해 배상"},
    "en": {"refund": "Refunds", "replacement": "Replacements", "coupon": "Discount coupons",
           "credit": "Service credits", "service_extension": "Service extensions",
           "cash": "Compensation for losses"},
}
DATE_FORMAT = {"ko": "y년 M월 d일 aaaa h:mm", "en": "MMMM d, y 'at' h:mm a"}


@dataclass
class Signatory:
    name: str
    title: str
    email: str


@dataclass
class Facts:
    language: str
    audience: str
    title: str
    detected: str
    harm: str
    affected_count: int | None
    cause: str
    mitigated: str
    resolved: str
    resolution: str
    customer_name: str
    contact: Signatory
    remedies: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    signatories: list[Signatory] = field(default_factory=list)


def _when(value: datetime | None, language: str) -> str:
    if value is None:
        return ""
    zone = ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])
    return format_datetime(value, DATE_FORMAT[language], tzinfo=zone, locale=language)


def remedy_line(comp, language: str) -> str:
    amount = format_currency(to_major(comp.amount, comp.currency), comp.currency, locale=language)
    what = f"{TYPE_WORDS[language][comp.type.value]} {amount}"
    if comp.status.value == "paid":
        paid = _when(comp.paid_at, language)
        return f"{what} ({paid} 지급 완료)" if language == "ko" else f"{what} (paid on {paid})"
    return f"{what} (곧 지급해 드립니다)" if language == "ko" else f"{what} (on its way to you)"


def public_remedies(compensations, language: str) -> list[str]:
    """A public notice names the kinds of remedy, never one customer's amount."""
    kinds = list(dict.fromkeys(c.type.value for c in compensations))
    suffix = " (피해 고객님께 개별 안내)" if language == "ko" else " for affected customers"
    return [PUBLIC_TYPE_WORDS[language][k] + suffix for k in kinds]


def gather(incident: Incident, *, audience: str, language: str, customer, compensations,
           changes: list[str], signatories: list[Signatory]) -> Facts:
    from app.timeutil import as_utc

    owner = incident.owner
    return Facts(
        language=language, audience=audience, title=incident.title,
        detected=_when(as_utc(incident.detected_at), language),
        harm=(customer.impact if customer is not None and customer.impact else incident.impact),
        affected_count=incident.affected_count, cause=incident.cause,
        mitigated=_when(as_utc(incident.mitigated_at), language),
        resolved=_when(as_utc(incident.resolved_at), language),
        resolution=incident.resolution, customer_name=customer.name if customer else "",
        contact=Signatory(owner.name, owner.title, owner.email),
        remedies=(public_remedies(compensations, language) if audience == "public"
                  else [remedy_line(c, language) for c in compensations]),
        changes=changes or ([incident.resolution] if incident.resolution else []),
        signatories=signatories)


def _environment() -> Environment:
    loaders = [FileSystemLoader(str(Path(current_app.instance_path) / "letters")),
               FileSystemLoader(str(PROJECT_ROOT / "templates" / "apology" / "letters"))]
    # Plain Markdown out, so no HTML autoescaping; StrictUndefined makes a template typo loud.
    return Environment(loader=ChoiceLoader(loaders), autoescape=False, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def render(facts: Facts) -> str:
    template = _environment().get_template(f"{facts.language}_{facts.audience}.md.j2")
    text = template.render(f=facts)
    # Collapse the blank lines that optional sections leave behind.
    lines, blank = [], 0
    for line in text.splitlines():
        blank = blank + 1 if not line.strip() else 0
        if blank <= 1:
            lines.append(line.rstrip())
    return "\n".join(lines).strip() + "\n"
