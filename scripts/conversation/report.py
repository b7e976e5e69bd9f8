"""The benchmark's table and its Markdown report (pure formatting)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from scripts.conversation.scoring import Score
from scripts.conversation.simulate import Conversation

# (label, key, format) of the table's rows.
ROWS: tuple[tuple[str, str, str], ...] = (
    ("customers", "customers", "d"),
    ("task success", "task_success", "%"),
    ("turns per intake (median)", "turns_per_intake_median", "f"),
    ("turns per intake (mean)", "turns_per_intake_mean", "f"),
    ("questions re-asked", "reasked", "d"),
    ("customers with a re-ask", "customers_reasked", "d"),
    ("asked although already stated", "asked_although_stated", "d"),
    ("loops (5+ same question in a row)", "loops", "d"),
    ("invented facts", "invented_facts", "d"),
    ("customers with invented facts", "customers_with_invented_facts", "d"),
    ("unusable answers given", "unusable_given", "d"),
    ("unusable answers taken", "unusable_taken", "d"),
    ("handoffs", "handoffs", "d"),
    ("  expected (customer asked)", "handoffs_expected", "d"),
    ("  unexpected", "handoffs_unexpected", "d"),
    ("questions per missing item (median)", "questions_per_missing_item_median", "f"),
)


def _cell(value: Any, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "%":
        return f"{100 * value:.1f} %"
    if kind == "f":
        return f"{value:.2f}"
    return str(value)


def table(figures: Mapping[str, Mapping[str, Any]]) -> str:
    columns = [c for c in ("train", "heldout", "all") if c in figures]
    lines = [
        "| figure | " + " | ".join(columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for label, key, kind in ROWS:
        lines.append(f"| {label} | " + " | ".join(_cell(figures[c].get(key), kind) for c in columns) + " |")
    return "\n".join(lines)


def _counts(title: str, counts: Mapping[str, int]) -> list[str]:
    if not counts:
        return []
    return [f"**{title}:** " + ", ".join(f"{k} {v}" for k, v in counts.items()), ""]


def markdown(
    *,
    run: Mapping[str, Any],
    figures: Mapping[str, Mapping[str, Any]],
    patterns: Sequence[Mapping[str, Any]],
    scores: Sequence[Score],
    conversations: Sequence[Conversation],
    failures: int,
    stumbled: Sequence[Mapping[str, Any]] = (),
) -> str:
    overall = figures["all"]
    lines = [
        "# Conversation benchmark",
        "",
        f"{run['customers']} simulated customers (seed {run['seed']}, half {run['half']}) talking over REST to the "
        f"real servers; model {run['model']} ({run['model_time']}), {run['started_at']}, {run['seconds']:.0f} s.",
        "",
        table(figures),
        "",
        *_counts("Outcomes (expected→got)", overall["outcomes"]),
        *_counts("Wrong fields", overall["wrong_fields"]),
        *_counts("Invented fields", overall["invented_fields"]),
        *_counts("Unusable answers taken, by question", overall["unusable_taken_by_question"]),
        *_counts("Re-asked, by question", overall["reasked_by_question"]),
        "## Most common problems",
        "",
    ]
    for i, pattern in enumerate(patterns, 1):
        lines.append(f"{i}. **{pattern['pattern']}** — {pattern['customers']} customers")
        lines.extend(f"   - {example}" for example in pattern["examples"])
    if stumbled:
        lines += [
            "",
            "## Usable answers the bot did not take",
            "",
            "| question | customer said | bot answered | times | customers |",
            "|---|---|---|---:|---:|",
        ]
        for row in stumbled:
            answer = str(row["answer"]).replace("|", "\\|")
            lines.append(f"| {row['question']} | {answer} | {row['bot']} | {row['times']} | {row['customers']} |")
    lines += ["", f"## First {failures} failing conversations", ""]
    shown = 0
    for result, conversation in zip(scores, conversations, strict=True):
        if result.success or shown >= failures:
            continue
        shown += 1
        lines += [
            f"### {result.id} ({result.flow}, expected {result.expected_outcome}, got {result.outcome})",
            "",
            *(
                f"- {reason}" + (f" (×{count})" if count > 1 else "")
                for reason, count in Counter(result.reasons).items()
            ),
            "",
            "```",
            conversation.transcript(),
            "```",
            "",
        ]
    if not shown:
        lines.append("None.")
    return "\n".join(lines) + "\n"
