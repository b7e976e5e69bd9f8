"""Scores of simulated conversations: per customer, then per half and overall (pure, no I/O).

Per customer:
- task success: the outcome it expected (ticket, handoff, cancel, change
  request) and a record holding exactly what it stated: every checked field
  equal to its truth (names and companies compared without case or accents),
  nothing it did not state, and no other record for the sender;
- turns: customer messages sent;
- re-asked: a question asked again after the customer gave a usable answer to
  it (a "no" to the summary, a field being corrected and the power question
  after "no power" invite one more ask and are not counted);
- asked although stated: a question about a fact the customer had already
  stated in another message (the opening, mostly);
- loops: the same question asked 5+ times in a row;
- invented facts: a record field the customer never stated, or one set by an
  unusable answer the bot took;
- unusable answers taken: an unusable answer after which the bot went on to
  another question or closed, instead of asking again;
- questions per missing item: data questions asked / items the opening did not give.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from noc.domain.severity import classify, load_severity_table
from scripts.conversation import bot
from scripts.conversation.customers import (
    CANCELLED,
    CHANGE,
    CONFIRMING_QUESTIONS,
    HANDOFF,
    QUESTION_KEYS,
    TICKET,
    UNUSABLE_KINDS,
    USABLE_KINDS,
    Customer,
    fold,
    same_value,
)
from scripts.conversation.simulate import Conversation

LOOP_LENGTH = 5
STATUS_OPEN, STATUS_RESOLVED, STATUS_ESCALATED = "abierto", "resuelto_primer_contacto", "derivado"
PRESENCE_FIELDS = ("started", "description")


@dataclass
class Score:
    id: str
    half: str
    flow: str
    expected_outcome: str
    outcome: str
    success: bool
    turns: int
    reasked: list[str] = field(default_factory=list)
    asked_although_stated: list[str] = field(default_factory=list)
    loops: list[str] = field(default_factory=list)
    invented: list[str] = field(default_factory=list)
    unusable_given: int = 0
    unusable_taken: list[str] = field(default_factory=list)
    handoff: bool = False
    data_questions: int = 0
    missing_items: int = 0
    mismatches: dict[str, dict[str, Any]] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)  # what went wrong, readable
    signatures: list[str] = field(default_factory=list)  # the same, grouped for counting
    task_signatures: list[str] = field(default_factory=list)  # those that fail the task
    examples: dict[str, str] = field(default_factory=dict)  # signature -> one concrete instance

    @property
    def completed(self) -> bool:
        return self.outcome == self.expected_outcome and self.outcome in (TICKET, CHANGE)

    @property
    def questions_per_missing_item(self) -> float | None:
        if not self.completed or self.missing_items <= 0:
            return None
        return self.data_questions / self.missing_items

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["questions_per_missing_item"] = self.questions_per_missing_item
        return data


# -- what the record must hold -----------------------------------------------------------------


def expected_fields(customer: Customer, outcome: str) -> dict[str, Any]:
    """Every checked field of the record: the value stated, True = "some value", None = empty."""
    expected = customer.expected_record()
    if customer.flow == "change":
        return expected
    kind, power, persists = expected["symptom_kind"], expected["power_ok"], expected["problem_persists"]
    if outcome == TICKET or kind is not None:
        verdict = classify(_severity_table(), symptom_kind=kind, power_ok=power, problem_persists=persists)
        expected["severity"] = verdict.severity
    else:
        expected["severity"] = None
    if outcome == HANDOFF:
        expected["status"] = STATUS_ESCALATED
    else:
        expected["status"] = STATUS_RESOLVED if persists is False else STATUS_OPEN
    return expected


_TABLE: list[Any] = []


def _severity_table() -> Any:
    if not _TABLE:
        _TABLE.append(load_severity_table())
    return _TABLE[0]


def record_value(record: Mapping[str, Any], name: str) -> Any:
    if name == "started":
        return True if record.get("started_text") else None
    if name == "description":
        # A change request's own record has a description; the partial record of a
        # change request handed to an agent keeps it as the case's symptom.
        return True if record.get("description") or record.get("symptom") else None
    value = record.get(name)
    return None if value == "" else value


def compare_record(
    expected: Mapping[str, Any], record: Mapping[str, Any]
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """(mismatches, invented fields): what differs from the truth, and what the customer never said."""
    mismatches: dict[str, dict[str, Any]] = {}
    invented: list[str] = []
    for name, want in expected.items():
        got = record_value(record, name)
        if want is None:
            if got is not None:
                invented.append(name)
            continue
        ok = got is True if name in PRESENCE_FIELDS else same_value(name, want, got)
        if not ok:
            mismatches[name] = {"expected": want, "got": got}
    return mismatches, invented


# -- one conversation ---------------------------------------------------------------------------


def longest_runs(questions: Sequence[str]) -> dict[str, int]:
    """The longest run of consecutive asks of each question."""
    best: dict[str, int] = {}
    run = 0
    for i, question in enumerate(questions):
        run = run + 1 if i and questions[i - 1] == question else 1
        best[question] = max(best.get(question, 0), run)
    return best


def _key(question: str) -> str | None:
    return QUESTION_KEYS.get(question, question)


def _said(conversation: Conversation, number: int | None) -> str:
    if number is None or not 1 <= number <= len(conversation.exchanges):
        return "?"
    return conversation.exchanges[number - 1].customer.text


def _bot_said(turn: bot.BotTurn) -> str:
    parts = [m.response or m.text[:60] for m in turn.messages]
    return " + ".join(parts) if parts else "(nothing)"


def score(conversation: Conversation) -> Score:
    customer = conversation.customer
    exchanges = conversation.exchanges
    result = Score(
        id=customer.id,
        half=customer.half,
        flow=customer.flow,
        expected_outcome=customer.expected_outcome,
        outcome=conversation.outcome,
        success=False,
        turns=len(exchanges),
        handoff=conversation.outcome == HANDOFF,
    )

    def fail(signature: str, reason: str, *, task: bool = True) -> None:
        result.reasons.append(reason)
        if signature not in result.signatures:
            result.signatures.append(signature)
            result.examples[signature] = reason
        if task and signature not in result.task_signatures:
            result.task_signatures.append(signature)

    # Questions: re-asked, asked although stated, data questions.
    answered: set[str] = set()
    invites: Counter[str] = Counter()
    asked: set[str] = set()
    for i, exchange in enumerate(exchanges):
        reply = exchange.customer
        if reply.question and reply.kind in USABLE_KINDS:
            answered.add(reply.question)
        invites.update(reply.invites)
        for question in exchange.bot.questions:
            legit = invites[question] > 0
            if legit:
                invites[question] -= 1
            elif question in answered:
                result.reasked.append(question)
                fail(
                    f"re-asked: {question}",
                    f"re-asked {question} after «{_last_answer(exchanges, i, question)}»",
                    task=False,
                )
            else:
                key = _key(question)
                if key and question not in asked and customer.stated.get(key, 10**6) <= i + 1:
                    result.asked_although_stated.append(question)
            if question not in CONFIRMING_QUESTIONS and not legit:
                result.data_questions += 1
            asked.add(question)
    result.missing_items = len(customer.items_missing_after_opening())

    for question, run in longest_runs(conversation.questions).items():
        if run >= LOOP_LENGTH:
            result.loops.append(question)
            fail(f"loop: {question}", f"{question} asked {run} times in a row", task=False)

    # Unusable answers, and whether the bot took them.
    taken_fields: set[str] = set()
    for exchange in exchanges:
        reply, turn = exchange.customer, exchange.bot
        if reply.kind not in UNUSABLE_KINDS or reply.question is None:
            continue
        result.unusable_given += 1
        closed = turn.terminal in (bot.TICKET, bot.CHANGE)
        moved_on = bool(turn.questions) and reply.question not in turn.questions and turn.terminal is None
        if closed or moved_on:
            result.unusable_taken.append(reply.question)
            key = _key(reply.question)
            if key:
                taken_fields.add(key)
            fail(
                f"unusable taken: {reply.question}",
                f"unusable answer to {reply.question} «{reply.text}» taken: bot went on with {_bot_said(turn)}",
                task=False,
            )

    # A record value the customer only ever said in an unusable answer ("un momentico…" stored as the
    # company at the summary): the bot took that answer even if it asked its question again.
    record = conversation.record or {}
    for exchange in exchanges:
        reply = exchange.customer
        if reply.kind not in UNUSABLE_KINDS:
            continue
        for name in TEXT_RECORD_FIELDS:
            value = record.get(name)
            if isinstance(value, str) and _inside(value, reply.text) and not _stated_in_usable(value, exchanges):
                taken_fields.add(name)
                if reply.question not in result.unusable_taken:
                    result.unusable_taken.append(reply.question or "?")
                fail(
                    f"unusable taken: {reply.question}",
                    f"unusable answer to {reply.question} «{reply.text}» stored as {name}={value!r}",
                    task=False,
                )

    # The outcome.
    if conversation.outcome != result.expected_outcome:
        last = exchanges[-1] if exchanges else None
        context = f"; last: «{last.customer.text}» [{last.customer.kind}] → {_bot_said(last.bot)}" if last else ""
        fail(
            f"outcome: {result.expected_outcome} → {conversation.outcome}",
            f"expected {result.expected_outcome}, got {conversation.outcome}{context}",
        )

    # The record.
    if result.expected_outcome == CANCELLED:
        if conversation.record or conversation.other_records:
            fail("record after cancel", f"records after a cancellation: {conversation.other_records}")
    elif conversation.outcome == result.expected_outcome:
        if conversation.record is None:
            fail("record missing", f"no record for {conversation.number}")
        else:
            expected = expected_fields(customer, conversation.outcome)
            mismatches, invented = compare_record(expected, conversation.record)
            result.mismatches = mismatches
            for name in invented:
                value = record_value(conversation.record, name)
                fail(f"invented: {name}", f"record {name}={value!r} that the customer never stated")
            for name, diff in mismatches.items():
                said = _said(conversation, customer.stated.get(_field_key(name), customer.stated.get("contact_phone")))
                if name in taken_fields:
                    invented.append(name)
                    fail(
                        f"invented: {name}",
                        f"record {name}={diff['got']!r} from an unusable answer (stated {diff['expected']!r})",
                    )
                    continue
                fail(
                    f"wrong: {name}",
                    f"record {name}={diff['got']!r}, customer stated {diff['expected']!r} in «{said}»",
                )
            result.invented = sorted(set(invented))
        if conversation.other_records:
            fail("extra record", f"other records for the sender: {conversation.other_records}")
    if conversation.error:
        fail("error", conversation.error)
    result.success = not result.task_signatures
    return result


TEXT_RECORD_FIELDS = ("company", "service_id", "contact_name", "contact_phone", "contact_email")


def _words(text: str) -> str:
    return " ".join(re.findall(r"[\w@+.\-]+", fold(text))).strip(".")


def _inside(value: str, text: str) -> bool:
    """Whether a stored value is words of `text` (case, accents and punctuation aside), not a letter or two."""
    words = _words(value)
    return len(words) >= 3 and f" {words} " in f" {_words(text)} "


def _stated_in_usable(value: str, exchanges: Sequence[Any]) -> bool:
    return any(e.customer.kind not in UNUSABLE_KINDS and _inside(value, e.customer.text) for e in exchanges)


def _field_key(name: str) -> str:
    return {"description": "change_description", "severity": "symptom_kind", "status": "problem_persists"}.get(
        name, name
    )


def _last_answer(exchanges: Sequence[Any], before: int, question: str) -> str:
    for exchange in reversed(exchanges[: before + 1]):
        if exchange.customer.question == question:
            return str(exchange.customer.text)
    return "?"


# -- many conversations ---------------------------------------------------------------------------


def _median(values: Iterable[float]) -> float | None:
    items = list(values)
    return round(statistics.median(items), 2) if items else None


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return round(statistics.mean(items), 2) if items else None


def summarize(scores: Sequence[Score]) -> dict[str, Any]:
    n = len(scores)
    completed = [s for s in scores if s.completed]
    handoffs = [s for s in scores if s.handoff]
    ratios = [r for s in scores if (r := s.questions_per_missing_item) is not None]
    return {
        "customers": n,
        "task_success": round(sum(s.success for s in scores) / n, 3) if n else None,
        "successes": sum(s.success for s in scores),
        "turns_per_intake_median": _median(s.turns for s in completed),
        "turns_per_intake_mean": _mean(s.turns for s in completed),
        "reasked": sum(len(s.reasked) for s in scores),
        "customers_reasked": sum(bool(s.reasked) for s in scores),
        "asked_although_stated": sum(len(s.asked_although_stated) for s in scores),
        "loops": sum(len(s.loops) for s in scores),
        "customers_with_loops": sum(bool(s.loops) for s in scores),
        "invented_facts": sum(len(s.invented) for s in scores),
        "customers_with_invented_facts": sum(bool(s.invented) for s in scores),
        "unusable_given": sum(s.unusable_given for s in scores),
        "unusable_taken": sum(len(s.unusable_taken) for s in scores),
        "handoffs": len(handoffs),
        "handoffs_expected": sum(s.expected_outcome == HANDOFF for s in handoffs),
        "handoffs_unexpected": sum(s.expected_outcome != HANDOFF for s in handoffs),
        "questions_per_missing_item_median": _median(ratios),
        "outcomes": dict(Counter(f"{s.expected_outcome}→{s.outcome}" for s in scores).most_common()),
        "wrong_fields": dict(Counter(name for s in scores for name in s.mismatches).most_common()),
        "invented_fields": dict(Counter(name for s in scores for name in s.invented).most_common()),
        "unusable_taken_by_question": dict(Counter(q for s in scores for q in s.unusable_taken).most_common()),
        "reasked_by_question": dict(Counter(q for s in scores for q in s.reasked).most_common()),
    }


def summaries(scores: Sequence[Score]) -> dict[str, dict[str, Any]]:
    """Figures for each half present, and for all together."""
    result = {}
    for half in ("train", "heldout"):
        part = [s for s in scores if s.half == half]
        if part:
            result[half] = summarize(part)
    result["all"] = summarize(scores)
    return result


def failure_patterns(scores: Sequence[Score], top: int = 10) -> list[dict[str, Any]]:
    """The most common problems (failed tasks and re-asks, loops, unusable answers taken), with examples."""
    counts: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    for s in scores:
        for signature in s.signatures:
            counts[signature] += 1
            examples.setdefault(signature, []).append(f"{s.id}: {s.examples[signature]}")
    return [
        {"pattern": signature, "customers": count, "examples": examples[signature][:3]}
        for signature, count in counts.most_common(top)
    ]


def stumbles(conversations: Sequence[Conversation], top: int = 15) -> list[dict[str, Any]]:
    """Usable answers the bot did not take: (question, the customer's words, what the bot said), most common first."""
    counts: Counter[tuple[str, str, str]] = Counter()
    customers: dict[tuple[str, str, str], set[str]] = {}
    for conversation in conversations:
        for exchange in conversation.exchanges:
            reply, turn = exchange.customer, exchange.bot
            if reply.kind not in USABLE_KINDS or reply.question is None or reply.invites:
                continue
            stuck = reply.question in turn.questions or (not turn.questions and turn.terminal is None)
            if not stuck:
                continue
            said = (
                " + ".join(r or "?" for r in turn.responses if not (r or "").startswith("utter_ask_"))
                or "(asked again)"
            )
            key = (reply.question, reply.text, said)
            counts[key] += 1
            customers.setdefault(key, set()).add(conversation.customer.id)
    return [
        {"question": q, "answer": a, "bot": b, "times": n, "customers": len(customers[(q, a, b)])}
        for (q, a, b), n in counts.most_common(top)
    ]
