"""The kind of failure read from a customer's own words, when the model tagged no kind.

"No hay nada de internet, cero servicio" names no `symptom_kind` entity the
model learned, but it plainly describes a total outage. The phrases come from
the same synonym lists the model trains on (`data/nlu/lookups.yml`), so there is
one list of failure words to maintain, plus a few extra phrases below that are
too broad to annotate as entities in training data.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from noc.domain.validators import compile_phrases, normalize_text

LOOKUPS = Path(__file__).resolve().parents[2] / "data" / "nlu" / "lookups.yml"

# Whole-answer phrases a customer uses for a kind, beyond the entity synonyms.
EXTRA_PHRASES: dict[str, tuple[str, ...]] = {
    "sin_servicio": (
        "cero servicio",
        "nada de internet",
        "nada de servicio",
        "cero internet",
        "sin nada",
        "no hay nada",
        "no tenemos nada",
        "no anda",
        "no anda nada",
        "no funciona nada",
        "caida total",
        "total",
        "todo caido",
        "no hay linea",
        "sin linea",
        "no carga nada",
        "no abre nada",
    ),
    "intermitente": ("a ratos", "se va y vuelve", "por momentos", "se cae y se levanta", "de a ratos", "cada tanto"),
    "lentitud": ("lentisima", "lentisimo", "lentazo", "demora", "tarda", "no carga rapido", "va lento", "anda lento"),
    "perdida_paquetes": ("paquetes", "ping se pierde", "pierde ping", "timeouts", "time out"),
    "parcial": (
        "solo algunos",
        "solo algunas",
        "solo en",
        "unos usuarios",
        "algunos equipos",
        "solo un area",
        # One place named as the only one down, or the rest said to work.
        "solo la sede",
        "solo la sucursal",
        "solo la oficina",
        "solo el piso",
        "las demas bien",
        "los demas bien",
        "las demas si",
        "los demas si",
        "las demas funcionan",
        "los demas funcionan",
        "el resto bien",
        "el resto funciona",
    ),
    "falla_menor": ("menor", "sin impacto", "no impacta", "no es grave", "detalle"),
    "consulta": ("consulta", "una pregunta", "duda", "quisiera saber", "queria saber", "informacion", "solo preguntar"),
}


@lru_cache(maxsize=1)
def _patterns() -> dict[str, object]:
    entries = yaml.safe_load(LOOKUPS.read_text(encoding="utf-8")).get("nlu", [])
    phrases: dict[str, list[str]] = {kind: list(extra) for kind, extra in EXTRA_PHRASES.items()}
    for entry in entries:
        kind = entry.get("synonym")
        if kind in phrases:
            phrases[kind] += [
                line.strip()[2:] for line in entry["examples"].splitlines() if line.strip().startswith("- ")
            ]
    return {kind: compile_phrases(words) for kind, words in phrases.items()}


def kinds_in_text(text: str) -> list[str]:
    """Every failure kind the text names, in no particular order."""
    # "se nos cae", "se me corta": the pronoun of who suffers it is not part of the phrase.
    flat = re.sub(r"\bse (?:nos|me|te|le|les) ", "se ", normalize_text(text or ""))
    return [kind for kind, pattern in _patterns().items() if pattern.search(flat)]  # type: ignore[attr-defined]
