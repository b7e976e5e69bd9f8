"""Which kind of failure a customer's phrase names, learned from the annotated spans.

The entity extractor finds where a message describes the failure ("se nos cortó
todo el servicio") more often than the synonym lists know what that phrase
means: an unseen span kept its own words as its value and the bot asked "¿Cómo
describiría la falla?" again. This model maps such a span to a kind from the
spans annotated in `data/nlu` (character and word n-grams, a logistic
regression), and answers nothing unless it is sure: a wrong kind is a wrong
severity, while no kind only means one more question.

No Rasa import here: the pipeline component that trains and loads it is
`noc.rasa_plugins.failure_kind_reader`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from spacy.lang.es.stop_words import STOP_WORDS

# The label of a phrase that names no failure (other entities, greetings,
# change requests): without it every tagged span would be forced into a kind.
NO_KIND = "-"


def normalize(text: str) -> str:
    """Lower case, no accents, one space; "se nos cae" reads as "se cae"."""
    flat = unicodedata.normalize("NFKD", text.lower())
    flat = "".join(ch for ch in flat if not unicodedata.combining(ch))
    flat = re.sub(r"[^\w\s]", " ", flat)
    flat = re.sub(r"\bse (?:nos|me|te|le|les) ", "se ", flat)
    return " ".join(flat.split())


def word_ngrams(text: str, *, sizes: Iterable[int] = (1, 2, 3)) -> list[str]:
    """The runs of consecutive words of a text (negatives: pieces of messages that name no failure)."""
    words = normalize(text).split()
    return [" ".join(words[i : i + n]) for n in sizes for i in range(len(words) - n + 1)]


def word_spans(text: str, *, longest: int = 5) -> list[tuple[int, int]]:
    """(start, end) in `text` of every run of 1 to `longest` consecutive words."""
    words = [(m.start(), m.end()) for m in re.finditer(r"\w+", text)]
    return [(words[i][0], words[i + n - 1][1]) for n in range(1, longest + 1) for i in range(len(words) - n + 1)]


def overlaps(start: int, end: int, taken: Sequence[tuple[int, int]]) -> bool:
    """Whether [start, end) shares a character with any of the `taken` spans."""
    return any(start < taken_end and taken_start < end for taken_start, taken_end in taken)


def around_span(
    text: str, start: int, end: int, *, words: int = 2, taken: Sequence[tuple[int, int]] = ()
) -> tuple[int, int]:
    """(start, end) of the span widened by up to `words` words on each side.

    It stops at a word inside a `taken` (start, end): another entity's words
    ("Bucaramanga", "las 7") are its own, not the failure's context.
    """
    new_start, new_end = start, end
    for match in [m for m in re.finditer(r"\w+", text[:start])][::-1][:words]:
        if overlaps(*match.span(), taken):
            break
        new_start = match.start()
    for match in [m for m in re.finditer(r"\w+", text) if m.start() >= end][:words]:
        if overlaps(*match.span(), taken):
            break
        new_end = match.end()
    return new_start, new_end


@dataclass
class Reading:
    kind: str | None
    confidence: float


class FailureKindModel:
    """A phrase → kind classifier; `read` answers a kind only above `threshold`."""

    def __init__(self, pipeline: Pipeline, threshold: float, vocabulary: frozenset[str]) -> None:
        self.pipeline = pipeline
        self.threshold = threshold
        # The words of the phrases that name a kind: `find` reads only runs made of them.
        self.vocabulary = vocabulary

    @classmethod
    def fit(
        cls,
        phrases: Sequence[str],
        labels: Sequence[str],
        *,
        threshold: float,
        regularization: float = 10.0,
    ) -> FailureKindModel:
        features = FeatureUnion(
            [
                ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)),
                ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)),
            ]
        )
        pipeline = Pipeline(
            [
                ("features", features),
                ("classifier", LogisticRegression(C=regularization, max_iter=2000, class_weight="balanced")),
            ]
        )
        pipeline.fit([normalize(p) for p in phrases], list(labels))
        vocabulary = frozenset(
            word
            for phrase, label in zip(phrases, labels, strict=True)
            if label != NO_KIND
            for word in normalize(phrase).split()
        )
        return cls(pipeline, threshold, vocabulary)

    def read(self, phrase: str) -> Reading:
        return self._readings([phrase])[0]

    def find(
        self, text: str, *, threshold: float, taken: Sequence[tuple[int, int]] = ()
    ) -> tuple[int, int, Reading] | None:
        """The run of words of `text` most surely naming a kind, if one reaches `threshold`.

        Read are only runs that overlap no `taken` (start, end) — another entity —
        and whose words all come up in phrases naming a failure, at least one of
        them not a stop word: "solo" or "no" alone tell no kind, and in "pusieron
        solo José" the unknown "pusieron" would leave the decision to "solo".
        """
        spans = [
            (start, end)
            for start, end in word_spans(text)
            if not overlaps(start, end, taken) and self._made_of_failure_words(text[start:end])
        ]
        if not spans:
            return None
        readings = self._readings([text[start:end] for start, end in spans], threshold=threshold)
        best = max(range(len(spans)), key=lambda i: (readings[i].kind is not None, readings[i].confidence))
        if not self.agrees(text, *spans[best], readings[best], taken=taken):
            return None
        return (*spans[best], readings[best])

    def agrees(
        self, text: str, start: int, end: int, reading: Reading, *, taken: Sequence[tuple[int, int]] = ()
    ) -> bool:
        """Whether the words around a span lean to the same kind as the span.

        "baja" alone leans to lentitud and "conexión" to sin_servicio, but "el
        enlace sube y baja" and "se pierde la conexión de rato en rato" say neither.
        The span decides how sure; its context only has to lean the same way.
        """
        if reading.kind is None:
            return False
        around = self._readings([text[slice(*around_span(text, start, end, taken=taken))]], threshold=0.0)[0]
        return around.kind == reading.kind

    def _made_of_failure_words(self, run: str) -> bool:
        words = normalize(run).split()
        # Stop words are matched as written (with accents), without the punctuation.
        return all(word in self.vocabulary for word in words) and not all(
            word in STOP_WORDS for word in re.findall(r"\w+", run.lower())
        )

    def _readings(self, phrases: list[str], *, threshold: float | None = None) -> list[Reading]:
        table = self.pipeline.predict_proba([normalize(p) for p in phrases])
        readings = []
        for probabilities in table:
            best = int(probabilities.argmax())
            kind = str(self.pipeline.classes_[best])
            confidence = float(probabilities[best])
            sure = kind != NO_KIND and confidence >= (self.threshold if threshold is None else threshold)
            readings.append(Reading(kind if sure else None, confidence))
        return readings
