"""Delegation report (funnel stage 2 evidence): which escalations could agents decide alone?

Pure functions over plain rows so the figures are checked against hand-built data.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Row:
    category: str  # category key, or "" when the incident has none
    type: str
    amount: int
    required_role: str
    proposed_at: datetime
    approved_at: datetime | None = None
    approved_via: str | None = None  # "policy" or "role"
    rejected_at: datetime | None = None


@dataclass(frozen=True)
class Thresholds:
    min_escalations: int = 5
    min_escalation_share: float = 0.5
    min_approval_share: float = 0.9


@dataclass
class Group:
    category: str
    type: str
    count: int = 0
    total_amount: int = 0
    median_amount: float | None = None
    escalations: int = 0
    median_wait_minutes: float | None = None
    approved_as_proposed: float | None = None
    candidate: bool = False
    suggested_agent_limit: int | None = None
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k != "reasons"}


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _p90(values: list[int]) -> int | None:
    """Nearest-rank 90th percentile: the amount at or under which 90% of cases fall."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def build(rows: list[Row], small_amount: dict[str, int | None],
          thresholds: Thresholds = Thresholds()) -> list[Group]:
    """`small_amount[type]`: the largest amount still "small" (default: the highest lead
    limit for that type), so a candidate never moves manager-level money to agents."""
    groups: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.category, row.type), []).append(row)
    result = []
    for (category, comp_type), items in sorted(groups.items()):
        escalated = [r for r in items if r.required_role != "agent" and r.approved_via != "policy"]
        decided = [r for r in items if r.approved_via == "role" or r.rejected_at is not None]
        approved = [r for r in decided if r.approved_at is not None]
        waits = [((r.approved_at or r.rejected_at) - r.proposed_at).total_seconds() / 60
                 for r in decided]
        group = Group(
            category=category, type=comp_type, count=len(items),
            total_amount=sum(r.amount for r in items),
            median_amount=_median([r.amount for r in items]),
            escalations=len(escalated),
            median_wait_minutes=_median(waits),
            approved_as_proposed=len(approved) / len(decided) if decided else None)
        escalated_decided = [r for r in escalated if r in decided]
        escalated_approved = [r for r in escalated if r.approved_at is not None]
        share_ok = len(escalated) >= thresholds.min_escalation_share * len(items)
        approval = (sum(1 for r in escalated_decided if r.approved_at is not None)
                    / len(escalated_decided)) if escalated_decided else 0.0
        median_escalated = _median([r.amount for r in escalated])
        limit = small_amount.get(comp_type)
        small = median_escalated is not None and limit is not None and median_escalated <= limit
        if (len(escalated) >= thresholds.min_escalations and share_ok
                and approval >= thresholds.min_approval_share and small):
            group.candidate = True
            group.suggested_agent_limit = _p90([r.amount for r in escalated_approved])
        result.append(group)
    return result


CSV_FIELDS = ["category", "type", "count", "total_amount", "median_amount", "escalations",
              "median_wait_minutes", "approved_as_proposed", "candidate", "suggested_agent_limit"]


def to_csv(groups: list[Group], currency: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*CSV_FIELDS, "currency"])
    for g in groups:
        writer.writerow([getattr(g, f) if getattr(g, f) is not None else "" for f in CSV_FIELDS]
                        + [currency])
    return out.getvalue()
