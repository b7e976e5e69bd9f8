"""When a customer may raise a ticket to the next escalation level (pure logic).

The procedure: each level must be exhausted before the next. A level counts
as exhausted when the customer contacted it without an answer AND that
level's response target (the severity's first-response time) has passed since
the ticket reached it (its last escalation, or its opening at level 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

ESCALATE = "escalate"
CONTACT_CURRENT_FIRST = "contact_current_first"
TOO_EARLY = "too_early"
LAST_LEVEL = "last_level"


@dataclass(frozen=True)
class EscalationDecision:
    outcome: str
    level: int  # the level the ticket is at after the decision
    wait_until: datetime | None = None  # for TOO_EARLY: when the current level is exhausted


def decide_escalation(
    *,
    level: int,
    max_level: int,
    contacted_without_answer: bool,
    reached_level_at: datetime,
    response_minutes: int,
    now: datetime,
) -> EscalationDecision:
    """What to do with a request to escalate a ticket that is at ``level``."""
    if level >= max_level:
        return EscalationDecision(LAST_LEVEL, level)
    if not contacted_without_answer:
        return EscalationDecision(CONTACT_CURRENT_FIRST, level)
    wait_until = reached_level_at + timedelta(minutes=response_minutes)
    if now < wait_until:
        return EscalationDecision(TOO_EARLY, level, wait_until)
    return EscalationDecision(ESCALATE, level + 1)
