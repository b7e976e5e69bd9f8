"""The phrase banks of tests/conversation/phrases: one file per question, split in two halves.

Each file holds `question`, `asked` and `answers: [{text, region, expect}]`.
`expect` is what the text states and nothing more: slot values, `true` for
"some value" (started, desired_date, change_description), `{}` for an answer
that states nothing usable. Answers at an even index are the "train" half,
at an odd index the "heldout" half: a customer of one half only ever says
phrases of that half.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import yaml

ROOT = Path(__file__).resolve().parents[2]
PHRASES_DIR = ROOT / "tests" / "conversation" / "phrases"

Half = Literal["train", "heldout"]
HALVES: tuple[Half, ...] = ("train", "heldout")


@dataclass(frozen=True)
class Answer:
    bank: str
    index: int
    text: str
    region: str
    expect: Mapping[str, Any]

    @property
    def half(self) -> Half:
        return "train" if self.index % 2 == 0 else "heldout"

    @property
    def usable(self) -> bool:
        return bool(self.expect)


@dataclass(frozen=True)
class Bank:
    question: str
    asked: str
    answers: tuple[Answer, ...]

    def half(self, half: Half) -> tuple[Answer, ...]:
        return tuple(a for a in self.answers if a.half == half)

    def usable(self, half: Half) -> tuple[Answer, ...]:
        return tuple(a for a in self.half(half) if a.usable)

    def unusable(self, half: Half) -> tuple[Answer, ...]:
        return tuple(a for a in self.half(half) if not a.usable)


class BankError(ValueError):
    pass


def _answer(bank: str, index: int, raw: Any) -> Answer:
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
        raise BankError(f"{bank}.yml: answer {index} has no text")
    expect = raw.get("expect") or {}
    if not isinstance(expect, dict):
        raise BankError(f"{bank}.yml: answer {index}: expect must be a mapping")
    return Answer(
        bank=bank,
        index=index,
        text=raw["text"],
        region=str(raw.get("region") or ""),
        expect=MappingProxyType(dict(expect)),
    )


def load_bank(path: Path) -> Bank:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("answers"), list):
        raise BankError(f"{path.name}: expected a mapping with an answers list")
    name = str(data.get("question") or path.stem)
    answers = tuple(_answer(name, i, raw) for i, raw in enumerate(data["answers"]))
    return Bank(question=name, asked=str(data.get("asked") or ""), answers=answers)


def load_banks(directory: Path = PHRASES_DIR) -> dict[str, Bank]:
    """Every bank of `directory`, by question name."""
    banks = {}
    for path in sorted(directory.glob("*.yml")):
        bank = load_bank(path)
        banks[bank.question] = bank
    if not banks:
        raise BankError(f"no phrase banks in {directory}")
    return banks


def split(banks: Mapping[str, Bank], half: Half) -> dict[str, tuple[Answer, ...]]:
    """Each bank's answers of one half."""
    return {name: bank.half(half) for name, bank in banks.items()}
