"""The phrase → kind model of the NLU pipeline (noc/domain/failure_kinds.py), on a small set."""

from __future__ import annotations

import pytest

from noc.domain.failure_kinds import NO_KIND, FailureKindModel, around_span, normalize, word_spans

POSITIVES = {
    "sin_servicio": ["no hay servicio", "sin internet", "está caído", "no jala", "no funciona nada", "se cayó todo"],
    "intermitente": ["se cae a cada rato", "va y viene", "intermitencia", "se corta cada rato", "a ratos"],
    "lentitud": ["muy lento", "lentísimo", "tarda mucho", "anda lenta la red", "lentitud"],
}
NEGATIVES = ["hola buenas", "no sé", "solo eso", "gracias", "mi nombre es", "el router", "no tengo tiempo", "sí"]


@pytest.fixture(scope="module")
def model() -> FailureKindModel:
    phrases = [p for items in POSITIVES.values() for p in items] + NEGATIVES * 3
    labels = [kind for kind, items in POSITIVES.items() for _ in items] + [NO_KIND] * len(NEGATIVES) * 3
    return FailureKindModel.fit(phrases, labels, threshold=0.6)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Se NOS cayó  el Internet", "se cayo el internet"),
        ("¿Está caído?", "esta caido"),
        ("se me corta", "se corta"),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("no jala", [(0, 2), (3, 7), (0, 7)]),
        ("¡ya!", [(1, 3)]),
    ],
)
def test_word_spans(text: str, expected: list[tuple[int, int]]) -> None:
    assert word_spans(text) == expected


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("no jala nada", "sin_servicio"),
        ("se corta a ratos", "intermitente"),
        ("lentísima", "lentitud"),
        # a phrase the model has no words for gets no kind, rather than a guess
        ("la impresora del tercer piso", None),
        ("hola", None),
    ],
)
def test_read(model: FailureKindModel, phrase: str, expected: str | None) -> None:
    assert model.read(phrase).kind == expected


@pytest.mark.parametrize(
    ("text", "taken", "expected"),
    [
        ("oigan, no jala desde ayer", [], ("no jala", "sin_servicio")),
        # a run inside another entity is not read
        ("oigan, no jala desde ayer", [(7, 14)], None),
        # stop words alone tell no kind, nor a run with a word no failure phrase has
        ("no, solo eso", [], None),
        ("pusieron solo José", [], None),
    ],
)
def test_find(
    model: FailureKindModel, text: str, taken: list[tuple[int, int]], expected: tuple[str, str] | None
) -> None:
    found = model.find(text, threshold=0.6, taken=taken)
    got = (text[found[0] : found[1]], found[2].kind) if found else None
    assert got == expected


@pytest.mark.parametrize(
    ("text", "span", "expected"),
    [
        ("el enlace sube y baja", (17, 21), "sube y baja"),
        ("el enlace sube y baja", (0, 2), "el enlace sube"),
        ("caído", (0, 5), "caído"),
        ("ayer, ¡está caído!, desde las 8", (12, 17), "ayer, ¡está caído!, desde las"),
    ],
)
def test_around_span(text: str, span: tuple[int, int], expected: str) -> None:
    start, end = around_span(text, *span)
    assert text[start:end] == expected


def test_around_span_stops_at_other_entities() -> None:
    text = "la oficina de Bucaramanga se va y regresa desde las 7"
    start = text.index("se va")
    taken = [(text.index("Bucaramanga"), text.index(" se va")), (text.index("las 7"), len(text))]
    widened = around_span(text, start, start + len("se va y regresa"), taken=taken)
    assert text[slice(*widened)] == "se va y regresa desde"
