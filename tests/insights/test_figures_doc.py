"""docs/figures.md describes every figure the API returns, like README does settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from linge.insights.figures import FIGURES

DOC = (Path(__file__).resolve().parents[2] / "docs" / "figures.md").read_text()


@pytest.mark.parametrize("key", FIGURES)
def test_every_figure_is_documented(key: str) -> None:
    assert f"| `{key}` |" in DOC, f"{key} is a figure but docs/figures.md does not describe it"


def test_the_stated_error_is_the_code_s() -> None:
    from linge.insights.figures import RELATIVE_ERROR

    assert RELATIVE_ERROR <= 0.05 and f"{RELATIVE_ERROR:.1%}" in DOC


def test_a_period_is_read_once_day_by_day() -> None:
    """Years, months and days of split_period cover each day of the period exactly once."""
    import random
    from datetime import date, timedelta

    from linge.insights.figures import next_month, split_period

    rng = random.Random(3)
    for _ in range(2000):
        since = date(2024, 1, 1) + timedelta(days=rng.randint(0, 900))
        until = since + timedelta(days=rng.choice([0, 1, 30, 31, 60, 365, 366, 700, 1100]))
        years, months, days = split_period(since, until)
        covered: list[date] = []
        for year in years:
            covered += [year + timedelta(days=i) for i in range((date(year.year + 1, 1, 1)
                                                                 - year).days)]
        for month in months:
            covered += [month + timedelta(days=i) for i in range((next_month(month)
                                                                  - month).days)]
        for first, last in days:
            covered += [first + timedelta(days=i) for i in range((last - first).days + 1)]
        assert sorted(covered) == [since + timedelta(days=i)
                                   for i in range((until - since).days + 1)], (since, until)
        assert len(days) <= 4 and len(months) <= 22
