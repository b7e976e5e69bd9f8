"""A fixed sample of 40 simulated customers (seed 2026, both halves) through the real servers.

The bot must never loop, never record a fact the customer did not state, and
never take an unusable answer ("mmm", "no sé") as one; and most customers must
get the record they stated (scripts/conversation/scoring.py).
"""

from __future__ import annotations

from tests.conversation.conftest import Sample

# Measured on this very sample (`python -m scripts.conversation --customers 40 --seed 2026`):
# first run (2026-12-06 23:40 UTC) 32.5 % task success, 2 loops, 3 invented facts,
# 2 unusable answers taken; after the fixes of that evening 42.5 %, and 0 / 0 / 0.
# The floor leaves room for a few customers; raise it as the bot improves. Relative
# times ("desde las 9 am") are read against the clock, so the figure can move by a
# customer or two with the time of day.
TASK_SUCCESS_FLOOR = 0.25


def test_no_loops(sample: Sample) -> None:
    loops = [(s.id, s.loops) for s in sample.scores if s.loops]
    assert not loops, f"{loops}\n{sample.failing('loops')}"


def test_no_invented_facts(sample: Sample) -> None:
    invented = [(s.id, s.invented) for s in sample.scores if s.invented]
    assert not invented, f"{invented}\n{sample.failing('invented')}"


def test_no_unusable_answer_taken(sample: Sample) -> None:
    taken = [(s.id, s.unusable_taken) for s in sample.scores if s.unusable_taken]
    assert not taken, f"{taken}\n{sample.failing('unusable_taken')}"


def test_task_success_above_floor(sample: Sample) -> None:
    rate = sum(s.success for s in sample.scores) / len(sample.scores)
    assert rate >= TASK_SUCCESS_FLOOR, f"task success {rate:.1%} < {TASK_SUCCESS_FLOOR:.0%}"


def test_every_conversation_ran(sample: Sample) -> None:
    errors = [(s.id, c.error) for s, c in zip(sample.scores, sample.conversations, strict=True) if c.error]
    assert not errors, errors
