"""When a ticket may go up one escalation level."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from noc.domain.escalation_rules import (
    CONTACT_CURRENT_FIRST,
    ESCALATE,
    LAST_LEVEL,
    TOO_EARLY,
    decide_escalation,
)

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("level", "contacted", "reached_minutes_ago", "response_minutes", "outcome", "new_level"),
    [
        (1, True, 16, 15, ESCALATE, 2),
        (1, True, 15, 15, ESCALATE, 2),  # the target itself has passed
        (1, True, 14, 15, TOO_EARLY, 1),
        (1, False, 600, 15, CONTACT_CURRENT_FIRST, 1),
        (2, True, 31, 30, ESCALATE, 3),
        (3, True, 500, 480, ESCALATE, 4),
        (4, True, 5000, 15, LAST_LEVEL, 4),  # the last level cannot go up, contacted or not
        (4, False, 0, 15, LAST_LEVEL, 4),
    ],
)
def test_decide_escalation(level, contacted, reached_minutes_ago, response_minutes, outcome, new_level) -> None:
    decision = decide_escalation(
        level=level,
        max_level=4,
        contacted_without_answer=contacted,
        reached_level_at=NOW - timedelta(minutes=reached_minutes_ago),
        response_minutes=response_minutes,
        now=NOW,
    )
    assert (decision.outcome, decision.level) == (outcome, new_level)


def test_too_early_says_until_when() -> None:
    reached = NOW - timedelta(minutes=5)
    decision = decide_escalation(
        level=1, max_level=4, contacted_without_answer=True, reached_level_at=reached, response_minutes=15, now=NOW
    )
    assert decision.wait_until == reached + timedelta(minutes=15)
