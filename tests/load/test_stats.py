"""Percentiles, the database check and the report of the load test (scripts/load/stats.py)."""

from __future__ import annotations

import pytest

from scripts.load.stats import (
    Conversation,
    StoredIncident,
    StoredMessage,
    Turn,
    consistency,
    markdown,
    ok,
    percentile,
    ratio,
    ratios,
    summarize,
)


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([], 50, None),
        ([7.0], 99, 7.0),
        ([3.0, 1.0, 2.0], 50, 2.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([1.0, 2.0, 3.0, 4.0], 0, 1.0),
        ([1.0, 2.0, 3.0, 4.0], 100, 4.0),
        (list(range(1, 101)), 95, 95.05),
        (list(range(1, 101)), 99, 99.01),
        ([10.0, 20.0], 25, 12.5),
    ],
)
def test_percentile_interpolates_between_ranks(values: list[float], q: float, expected: float | None) -> None:
    result = percentile(values, q)
    assert result == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize("q", [-1, 100.5])
def test_percentile_refuses_a_q_outside_0_100(q: float) -> None:
    with pytest.raises(ValueError):
        percentile([1.0], q)


def turn(text: str, seconds: float = 0.1, status: int | None = 200, error: str | None = None, sid: str | None = None):
    return Turn(text, sid, status, seconds, ["ok"] if status == 200 else [], error)


def conversation(sender: str, turns: list[Turn], ticket: str | None = "INC-2026-000001", channel: str = "rest"):
    errors = [t.error for t in turns if t.error]
    return Conversation(sender, channel, turns, ticket, errors[0] if errors else None, finished=ticket is not None)


def test_summary_counts_answered_messages_errors_and_throughput() -> None:
    conversations = [
        conversation("a", [turn("hola", 0.1), turn("sí", 0.3)]),
        conversation("b", [turn("hola", 0.2), turn("x", 90, status=None, error="timeout")], ticket=None),
        Conversation("c", "rest", [], None, "unexpected_question"),
        conversation("d", [turn("hola", 16.0, sid="SM1")], channel="whatsapp"),
    ]
    summary = summarize(conversations, wall_seconds=2.0)
    assert summary["conversations"] == 4 and summary["conversations_finished"] == 2
    assert (summary["messages"], summary["messages_answered"]) == (5, 4)
    assert summary["messages_per_second"] == 2.0
    assert summary["p50_ms"] == 250.0  # of the answered ones only
    assert summary["errors_by_kind"] == {"timeout": 1, "unexpected_question": 1}
    assert summary["errors"] == 2
    assert summary["twilio_answers_over_15s"] == 1
    assert summary["by_channel"] == {"rest": 3, "whatsapp": 1}


def test_summary_of_nothing() -> None:
    summary = summarize([], wall_seconds=0)
    assert summary["messages_per_second"] is None and summary["p99_ms"] is None


def stored(sender: str, text: str, sid: str | None = None) -> StoredMessage:
    return StoredMessage(sender, text, sid)


RUN = [
    conversation("rest-1", [turn("hola"), turn("sí"), turn("sí")], ticket="INC-2026-000001"),
    conversation(
        "whatsapp:+57", [turn("hola", sid="SM1"), turn("1", sid="SM2")], ticket="INC-2026-000002", channel="whatsapp"
    ),
]
ALL_STORED = [
    stored("rest-1", "hola"),
    stored("rest-1", "sí"),
    stored("rest-1", "sí"),
    stored("whatsapp:+57", "hola", "SM1"),
    # The channel sent the button's payload for the typed "1": the MessageSid identifies it.
    stored("whatsapp:+57", "/affirm", "SM2"),
    stored("someone-else", "hola"),
]
RECORDS = [
    StoredIncident("rest-1", "INC-2026-000001", "CO-MPLS-10001", "a@b.com"),
    StoredIncident("whatsapp:+57", "INC-2026-000002", "PE-INT-10002", "c@d.com"),
    StoredIncident("someone-else", "INC-2026-000003", None, None),
]
CLEAN = {
    "messages_lost": 0,
    "messages_duplicated": 0,
    "messages_unexpected": 0,
    "records": 2,
    "records_lost": 0,
    "records_duplicated": 0,
    "records_with_other_data": 0,
}


@pytest.mark.parametrize(
    ("messages", "records", "changes"),
    [
        (ALL_STORED, RECORDS, {}),
        # One of the two "sí" is missing: lost, although the same text is stored once.
        ([m for i, m in enumerate(ALL_STORED) if i != 2], RECORDS, {"messages_lost": 1}),
        (ALL_STORED[:4] + ALL_STORED[5:], RECORDS, {"messages_lost": 1}),
        ([*ALL_STORED, stored("whatsapp:+57", "hola", "SM1")], RECORDS, {"messages_duplicated": 1}),
        ([*ALL_STORED, stored("rest-1", "hola")], RECORDS, {"messages_duplicated": 1}),
        ([*ALL_STORED, stored("rest-1", "adiós")], RECORDS, {"messages_unexpected": 1}),
        (ALL_STORED, RECORDS[1:], {"records": 1, "records_lost": 1}),
        (
            ALL_STORED,
            [*RECORDS, StoredIncident("rest-1", "INC-2026-000004", "CO-MPLS-10001", "a@b.com")],
            {"records": 3, "records_duplicated": 1},
        ),
        # The bot gave a ticket whose record belongs to another conversation.
        (
            ALL_STORED,
            [StoredIncident("whatsapp:+57", "INC-2026-000001", "X", "y"), RECORDS[1]],
            {"records_lost": 1, "records_duplicated": 1},
        ),
    ],
)
def test_consistency_finds_lost_and_duplicated_messages_and_records(messages, records, changes: dict) -> None:
    assert consistency(RUN, messages, records) == {**CLEAN, **changes}


def test_a_refused_message_may_be_stored_or_not() -> None:
    run = [conversation("rest-1", [turn("hola"), turn("sí", status=None, error="timeout")], ticket=None)]
    assert consistency(run, [stored("rest-1", "hola")], [])["messages_lost"] == 0
    checks = consistency(run, [stored("rest-1", "hola"), stored("rest-1", "sí")], [])
    assert (checks["messages_lost"], checks["messages_duplicated"]) == (0, 0)


@pytest.mark.parametrize(
    ("expected", "other_data"),
    [
        ({"rest-1": ("CO-MPLS-10001", "a@b.com"), "whatsapp:+57": ("PE-INT-10002", "c@d.com")}, 0),
        ({"rest-1": ("CO-MPLS-99999", "a@b.com")}, 1),
        ({"rest-1": ("CO-MPLS-10001", "other@b.com"), "whatsapp:+57": ("X", "c@d.com")}, 2),
    ],
)
def test_records_holding_other_data_than_the_customer_gave(expected: dict, other_data: int) -> None:
    assert consistency(RUN, ALL_STORED, RECORDS, expected)["records_with_other_data"] == other_data


@pytest.mark.parametrize(
    ("summary", "checks", "expected"),
    [
        ({"errors": 0, "conversations": 2, "conversations_finished": 2}, CLEAN, True),
        ({"errors": 0, "conversations": 2, "conversations_finished": 2}, None, True),
        ({"errors": 1, "conversations": 2, "conversations_finished": 2}, CLEAN, False),
        ({"errors": 0, "conversations": 2, "conversations_finished": 1}, CLEAN, False),
        ({"errors": 0, "conversations": 2, "conversations_finished": 2}, {**CLEAN, "records_duplicated": 1}, False),
        # Data the NLU misread is reported, but it is not a lost record.
        ({"errors": 0, "conversations": 2, "conversations_finished": 2}, {**CLEAN, "records_with_other_data": 1}, True),
    ],
)
def test_ok(summary: dict, checks: dict | None, expected: bool) -> None:
    assert ok(summary, checks) is expected


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"), [(3.4, 2.0, 1.7), (None, 2.0, None), (1.0, 0, None), (1.0, None, None)]
)
def test_ratio(numerator, denominator, expected) -> None:
    assert ratio(numerator, denominator) == expected


def test_ratios_and_report_name_every_target() -> None:
    def target(rate: float, p50: float) -> dict:
        summary = summarize([conversation("a", [turn("hola", p50 / 1000)])], wall_seconds=1 / rate)
        return {"summary": summary, "consistency": CLEAN, "memory_mb": {"rasa server :17105": 812.5}}

    targets = {"one_server": target(10, 200), "cluster": target(17, 150), "bare_rasa_init": target(40, 50)}
    results = {"targets": targets, "ratios": ratios(targets)}
    assert results["ratios"]["cluster / one server, messages/s"] == 1.7
    assert results["ratios"]["one server / bare rasa init, p50"] == 4.0
    report = markdown(results)
    for name in targets:
        assert f"| {name} | 1/1 |" in report
    assert "| cluster | rasa server :17105 | 812.5 |" in report
    assert "- cluster / one server, messages/s: 1.7" in report


def test_a_target_that_failed_to_start_is_a_row_of_the_report() -> None:
    targets = {"cluster": {"error": "TimeoutError: not ready", "ok": False}}
    assert "| cluster | failed: TimeoutError: not ready |" in markdown({"targets": targets, "ratios": ratios(targets)})
    assert ratios(targets)["cluster / one server, messages/s"] is None
