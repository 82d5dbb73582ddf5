"""Median and 90th percentile, defined once: median as usual (mean of the two middle
values for an even count), p90 by nearest rank (the value at or under which 90% fall)."""

from __future__ import annotations

import math
import statistics


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def summary(values: list[float]) -> dict:
    med, p = median(values), p90(values)
    return {"median": None if med is None else round(med, 1),
            "p90": None if p is None else round(p, 1), "count": len(values)}
