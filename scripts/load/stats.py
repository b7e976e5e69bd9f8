"""What a load run's raw results mean: percentiles, consistency with the database, the report (pure)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

TWILIO_CHANNELS = ("sms", "whatsapp")
# "No lost or duplicated message or record" (the target).
INTEGRITY_KEYS = ("messages_lost", "messages_duplicated", "records_lost", "records_duplicated")
# Twilio gives up on a webhook after 15 s (docs/twilio.md) and retries it.
TWILIO_PATIENCE_SECONDS = 15.0


@dataclass
class Turn:
    text: str
    # Twilio's MessageSid (Rasa's message_id); None over REST.
    message_id: str | None
    status: int | None  # None: no HTTP answer (timeout, connection error)
    seconds: float
    bot_texts: list[str] = field(default_factory=list)
    error: str | None = None
    # Which server answered behind nginx (its X-NOC-Upstream header), when it says.
    upstream: str | None = None


@dataclass
class Conversation:
    sender_id: str
    channel: str
    turns: list[Turn] = field(default_factory=list)
    ticket: str | None = None
    # None while it goes well; then why it stopped short of its end.
    error: str | None = None
    # The moodbot's conversations end when their messages are used up, intakes at the ticket.
    finished: bool = False


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between ranks (numpy's default); None if empty."""
    if not 0 <= q <= 100:
        raise ValueError("q must be within 0-100")
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def summarize(conversations: Sequence[Conversation], wall_seconds: float) -> dict:
    """Throughput, latency and errors of one target's run."""
    turns = [turn for conversation in conversations for turn in conversation.turns]
    answered = [turn for turn in turns if turn.status == 200]
    latencies = [turn.seconds for turn in answered]
    errors = Counter(turn.error for turn in turns if turn.error)
    # A conversation's own error (e.g. no ticket) counts once, on top of its messages' errors.
    errors.update(
        conversation.error
        for conversation in conversations
        if conversation.error and not any(turn.error == conversation.error for turn in conversation.turns)
    )
    twilio = [turn for c in conversations if c.channel in TWILIO_CHANNELS for turn in c.turns if turn.status == 200]
    return {
        "conversations": len(conversations),
        "conversations_finished": sum(conversation.finished for conversation in conversations),
        "by_channel": dict(Counter(conversation.channel for conversation in conversations)),
        "messages": len(turns),
        "messages_answered": len(answered),
        "wall_seconds": round(wall_seconds, 2),
        "messages_per_second": round(len(answered) / wall_seconds, 2) if wall_seconds > 0 else None,
        "p50_ms": _ms(percentile(latencies, 50)),
        "p95_ms": _ms(percentile(latencies, 95)),
        "p99_ms": _ms(percentile(latencies, 99)),
        "max_ms": _ms(max(latencies, default=None)),
        "errors": sum(errors.values()),
        "errors_by_kind": dict(sorted(errors.items())),
        "twilio_answers_over_15s": sum(turn.seconds > TWILIO_PATIENCE_SECONDS for turn in twilio),
        "by_upstream": dict(sorted(Counter(turn.upstream for turn in answered if turn.upstream).items())),
    }


@dataclass(frozen=True)
class StoredMessage:
    """A ``user`` event of Rasa's tracker store."""

    sender_id: str
    text: str
    message_id: str | None


@dataclass(frozen=True)
class StoredIncident:
    sender_id: str
    ticket: str
    service_id: str | None
    contact_email: str | None


def _key(sender_id: str, text: str, message_id: str | None) -> tuple[str, str]:
    # Twilio's MessageSid identifies a message even when the channel sent the bot
    # a button's payload instead of the typed "1"; REST messages have only their text.
    return (sender_id, message_id) if message_id else (sender_id, text)


def consistency(
    conversations: Sequence[Conversation],
    stored: Iterable[StoredMessage],
    incidents: Iterable[StoredIncident],
    expected: Mapping[str, tuple[str, str]] | None = None,
) -> dict:
    """Every message the bot answered is stored once; every ticket is one record of its conversation.

    ``expected`` maps a sender id to the (service ID, e-mail) its customer gave,
    to count records that hold other data (an NLU mistake, not a lost record).
    """
    senders = {conversation.sender_id for conversation in conversations}
    is_twilio = {c.sender_id: c.channel in TWILIO_CHANNELS for c in conversations}
    sent = Counter()
    unanswered = Counter()
    for conversation in conversations:
        for turn in conversation.turns:
            key = _key(conversation.sender_id, turn.text, turn.message_id)
            # Refused messages (rate limit, bot error, no answer) may or may not be stored.
            if turn.status == 200 and turn.error not in ("rate_limited", "bot_error"):
                sent[key] += 1
            else:
                unanswered[key] += 1
    seen = Counter(
        _key(message.sender_id, message.text, message.message_id if is_twilio.get(message.sender_id) else None)
        for message in stored
        if message.sender_id in senders
    )
    lost = sum(max(0, count - seen[key]) for key, count in sent.items())
    duplicated = sum(
        max(0, count - sent[key] - unanswered[key]) for key, count in seen.items() if key in sent or key in unanswered
    )
    unexpected = sum(count for key, count in seen.items() if key not in sent and key not in unanswered)

    records = [incident for incident in incidents if incident.sender_id in senders]
    by_sender = Counter(incident.sender_id for incident in records)
    tickets = Counter(incident.ticket for incident in records)
    record_of = {(incident.sender_id, incident.ticket): incident for incident in records}
    with_ticket = [conversation for conversation in conversations if conversation.ticket]
    wrong_data = 0
    for conversation in with_ticket:
        record = record_of.get((conversation.sender_id, conversation.ticket))
        if record is not None and expected and conversation.sender_id in expected:
            wrong_data += (record.service_id, record.contact_email) != expected[conversation.sender_id]
    return {
        "messages_lost": lost,
        "messages_duplicated": duplicated,
        "messages_unexpected": unexpected,
        "records": len(records),
        "records_lost": sum((c.sender_id, c.ticket) not in record_of for c in with_ticket),
        "records_duplicated": sum(count - 1 for count in by_sender.values() if count > 1)
        + sum(count - 1 for count in tickets.values() if count > 1),
        "records_with_other_data": wrong_data,
    }


def ok(summary: Mapping, checks: Mapping | None) -> bool:
    """The issue's target for one run: no error, nothing lost or duplicated."""
    if summary["errors"] or summary["conversations_finished"] != summary["conversations"]:
        return False
    if checks is None:
        return True
    return not any(checks[key] for key in INTEGRITY_KEYS)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 2)


def _cell(value: object) -> str:
    return "–" if value is None else str(value)


def markdown(results: Mapping) -> str:
    """The report: one row per target, the memory of each process, then the ratios."""
    targets: Mapping[str, Mapping] = results["targets"]
    lines = [
        "| target | conversations | messages | msg/s | p50 / p95 / p99 ms | errors | lost / duplicated "
        "(messages; records) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, target in targets.items():
        if "summary" not in target:
            lines.append(f"| {name} | failed: {target.get('error')} | | | | | |")
            continue
        summary, checks = target["summary"], target.get("consistency")
        integrity = (
            f"{checks['messages_lost']} / {checks['messages_duplicated']}; "
            f"{checks['records_lost']} / {checks['records_duplicated']}"
            if checks
            else "not checked"
        )
        lines.append(
            f"| {name} | {summary['conversations_finished']}/{summary['conversations']} "
            f"| {summary['messages_answered']}/{summary['messages']} | {_cell(summary['messages_per_second'])} "
            f"| {_cell(summary['p50_ms'])} / {_cell(summary['p95_ms'])} / {_cell(summary['p99_ms'])} "
            f"| {summary['errors']} | {integrity} |"
        )
    lines += ["", "| target | process | peak RSS MB (during the load) |", "|---|---|---|"]
    for name, target in targets.items():
        for process, mb in target.get("memory_mb", {}).items():
            lines.append(f"| {name} | {process} | {mb} |")
    lines += ["", "| target | process | CPU s (during the load) | CPU ms per answered message |", "|---|---|---|---|"]
    for name, target in targets.items():
        answered = target.get("summary", {}).get("messages_answered") or 0
        for process, seconds in target.get("cpu_seconds", {}).items():
            per_message = round(seconds * 1000 / answered, 1) if answered else None
            lines.append(f"| {name} | {process} | {seconds} | {_cell(per_message)} |")
    lines.append("")
    for label, value in results.get("ratios", {}).items():
        lines.append(f"- {label}: {_cell(value)}")
    return "\n".join(lines)


def ratios(targets: Mapping[str, Mapping]) -> dict[str, float | None]:
    """The figures the issue asks for: cluster vs one server, this bot vs a bare `rasa init` bot."""

    def get(name: str, key: str) -> float | None:
        return targets.get(name, {}).get("summary", {}).get(key)

    return {
        "cluster / one server, messages/s": ratio(
            get("cluster", "messages_per_second"), get("one_server", "messages_per_second")
        ),
        "one server / bare rasa init, p50": ratio(get("one_server", "p50_ms"), get("bare_rasa_init", "p50_ms")),
        "cluster / bare rasa init, p50": ratio(get("cluster", "p50_ms"), get("bare_rasa_init", "p50_ms")),
        "bare rasa init / one server, messages/s": ratio(
            get("bare_rasa_init", "messages_per_second"), get("one_server", "messages_per_second")
        ),
    }
