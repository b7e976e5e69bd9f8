"""The kind of failure read from the customer's own words (noc/domain/symptoms.py)."""

from __future__ import annotations

import pytest

from noc.domain.symptoms import kinds_in_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no hay nada de internet, cero servicio", {"sin_servicio"}),
        ("se va y vuelve a cada rato", {"intermitente"}),
        ("el enlace se nos cae a cada rato desde el martes", {"intermitente"}),
        # the scope: one place down, or the rest said to work
        ("solo la sucursal de Tunja está caída, el resto funciona", {"sin_servicio", "parcial"}),
        ("la oficina de arriba sin red, los demás sí tienen", {"parcial"}),
        ("es una pregunta nada más", {"consulta"}),
        # asking to repeat the question is no query
        ("¿me repite la pregunta?", set()),
    ],
)
def test_kinds_in_text(text: str, expected: set[str]) -> None:
    assert expected <= set(kinds_in_text(text))
    if not expected:
        assert kinds_in_text(text) == []
