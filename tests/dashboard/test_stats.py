"""Median and nearest-rank p90, defined once for the dashboard."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incidents.dashboard.stats import median, p90, summary


@pytest.mark.parametrize(("values", "expected"), [
    ([], None), ([7], 7), ([3, 1, 2], 2), ([4, 1, 3, 2], 2.5), ([10, 20], 15), ([5, 5, 100, 100], 52.5),
])
def test_median_is_the_mean_of_the_two_middle_values_for_an_even_count(values, expected):
    assert median(values) == expected


@pytest.mark.parametrize(("values", "expected"), [
    ([], None), ([7], 7), ([1, 2], 2), (list(range(1, 11)), 9), (list(range(1, 12)), 10),
    (list(range(1, 21)), 18), (list(range(1, 22)), 19), ([100, 3, 5, 10, 20, 30, 45, 50, 70, 15], 70),
])
def test_p90_is_nearest_rank_never_interpolated(values, expected):
    assert p90(values) == expected


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=200))
def test_p90_is_a_member_with_at_least_90_percent_at_or_under_it(values):
    value = p90(values)
    assert value in values
    at_or_under = sum(1 for v in values if v <= value)
    assert at_or_under >= math.ceil(0.9 * len(values))
    below = sum(1 for v in values if v < value)
    assert below < math.ceil(0.9 * len(values))


def test_summary_rounds_and_counts():
    assert summary([]) == {"median": None, "p90": None, "count": 0}
    assert summary([1.04, 2.26]) == {"median": 1.6, "p90": 2.3, "count": 2}
