"""NLU component: give a tagged failure span a kind when the synonyms did not.

Runs after `EntitySynonymMapper`. A `symptom_kind` entity whose value is not a
kind after the synonyms (the extractor found a phrase no list holds, "se va y
regresa") is read by `FailureKindModel`, trained in `rasa train` on the spans
annotated in `data/nlu` and on phrases that name no failure. Below its
threshold the entity is left as it was, and the form asks for the kind.
"""

from __future__ import annotations

from typing import Any

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from noc.domain.failure_kinds import NO_KIND, FailureKindModel, normalize, word_ngrams

MODEL_FILE = "failure_kinds.joblib"


def training_phrases(
    training_data: TrainingData, *, entity: str, failure_intents: list[str]
) -> tuple[list[str], list[str], set[str]]:
    """(phrases, labels, kinds): annotated spans with their kind, and phrases that name none."""
    synonyms = {str(k).lower(): str(v) for k, v in training_data.entity_synonyms.items()}
    spans: list[tuple[str, str]] = []
    negatives: list[str] = []
    for example in training_data.nlu_examples:
        text = example.get(TEXT) or ""
        entities = example.get(ENTITIES) or []
        for found in entities:
            phrase = text[found["start"] : found["end"]]
            if found["entity"] == entity:
                value = str(found.get("value", phrase))
                spans.append((phrase, synonyms.get(value.lower(), value)))
            else:
                negatives.append(phrase)
        if example.get(INTENT) not in failure_intents and not any(e["entity"] == entity for e in entities):
            negatives += [text, *word_ngrams(text)]
    # A kind is a value some span was annotated or mapped to other than its own words.
    kinds = {value for phrase, value in spans if normalize(value) != normalize(phrase)}
    positives = [(phrase, value) for phrase, value in spans if value in kinds]
    positives += [(original, value) for original, value in synonyms.items() if value in kinds]
    known = {normalize(phrase) for phrase, _ in positives}
    # Repeats kept: how often a phrase comes up without a failure is what it weighs.
    negatives = [n for n in negatives if normalize(n) and normalize(n) not in known]
    phrases = [phrase for phrase, _ in positives] + negatives
    labels = [value for _, value in positives] + [NO_KIND] * len(negatives)
    return phrases, labels, kinds


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True)
class FailureKindReader(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "entity": "symptom_kind",
            # Messages of these intents may describe a failure without an annotation
            # ("sigue igual"): they are not used as phrases that name none.
            "failure_intents": ["report_incident", "inform", "power_problem", "rebooted", "problem_solved"],
            # A span the extractor tagged gets a kind at this confidence...
            "threshold": 0.8,
            # ...and a message with no tagged span gets one only at this one, read
            # over its runs of words ("no jala el internet", which the CRF missed).
            "find_threshold": 0.9,
            # ...and only in a message the intent classifier reads as describing the
            # problem, giving data or saying no ("no, no jala nada"): "¿me repite la
            # pregunta?" (out of scope) names no consulta.
            "find_intents": ["report_incident", "inform", "deny"],
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: FailureKindModel | None = None,
        kinds: set[str] | None = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model
        self._kinds = kinds or set()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FailureKindReader:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        phrases, labels, kinds = training_phrases(
            training_data, entity=self._config["entity"], failure_intents=self._config["failure_intents"]
        )
        if kinds:
            self._model = FailureKindModel.fit(phrases, labels, threshold=self._config["threshold"])
            self._kinds = kinds
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump({"model": self._model, "kinds": self._kinds}, directory / MODEL_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> FailureKindReader:
        try:
            with model_storage.read_from(resource) as directory:
                saved = joblib.load(directory / MODEL_FILE)
        except (ValueError, FileNotFoundError):
            # Nothing trained (no NLU data): the component leaves entities as they are.
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, saved["model"], saved["kinds"])

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is None:
            return messages
        for message in messages:
            text = message.get(TEXT) or ""
            entities = message.get(ENTITIES) or []
            failures = [found for found in entities if found.get("entity") == self._config["entity"]]
            # Other entities' words are theirs: no failure is read in them, nor as its context.
            taken = [(e["start"], e["end"]) for e in entities if e.get("entity") != self._config["entity"]]
            for found in failures:
                if found.get("value") in self._kinds:
                    continue
                reading = self._model.read(text[found["start"] : found["end"]])
                if self._model.agrees(text, found["start"], found["end"], reading, taken=taken):
                    found["value"] = reading.kind
                    found.setdefault("processors", []).append(self.__class__.__name__)
            # No span, or only spans that tell no kind (the CRF tagged just "no" in "no
            # jala el internet"): look for the words that do.
            intent = (message.get(INTENT) or {}).get("name")
            if intent in self._config["find_intents"] and not any(f.get("value") in self._kinds for f in failures):
                self._find(message, text, entities, taken)
        return messages

    def _find(self, message: Message, text: str, entities: list[dict[str, Any]], taken: list[tuple[int, int]]) -> None:
        found = self._model.find(text, threshold=self._config["find_threshold"], taken=taken)
        if found is None:
            return
        start, end, reading = found
        entity = {
            "entity": self._config["entity"],
            "start": start,
            "end": end,
            "value": reading.kind,
            "confidence_entity": reading.confidence,
            "extractor": self.__class__.__name__,
        }
        message.set(ENTITIES, [*entities, entity], add_to_output=True)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
