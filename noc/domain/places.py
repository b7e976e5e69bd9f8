"""Country of the customer from a place name ("desde Lima", "estamos en Bogotá")."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from noc.domain.tables import TABLES_DIR, TableError, load_yaml, table_label
from noc.domain.validators import compile_phrases, find_longest_phrase, phrase_key

PLACES_FILE = TABLES_DIR / "places.yml"
_ISO_CODE = re.compile(r"^[A-Z]{2}$")


@lru_cache(maxsize=4)
def load_places(path: Path = PLACES_FILE) -> Mapping[str, str]:
    """Normalized alias -> ISO country code, validated."""
    label = table_label(path)
    data = load_yaml(path)
    owner: dict[str, str] = {}
    for code, aliases in data.items():
        if not isinstance(code, str) or not _ISO_CODE.match(code):
            raise TableError(f"{label}: {code!r} no es un código ISO de país de dos letras")
        if not isinstance(aliases, list) or not aliases:
            raise TableError(f"{label}: {code} debe tener una lista de nombres no vacía")
        for alias in aliases:
            key = phrase_key(alias) if isinstance(alias, str) else ""
            if not key:
                raise TableError(f"{label}: {code} tiene un nombre vacío o inválido: {alias!r}")
            previous = owner.setdefault(key, code)
            if previous != code:
                raise TableError(f"{label}: el nombre {alias!r} está en {previous} y en {code}")
    return owner


@lru_cache(maxsize=4)
def _pattern(path: Path) -> re.Pattern[str]:
    return compile_phrases(load_places(path))


def country_from_place(text: str | None, *, path: Path = PLACES_FILE) -> str | None:
    """ISO code of the place named in `text`, or None.

    A bare two-letter answer that is a known code ("PE", "co") is accepted too,
    but only as the whole answer: inside a sentence "es" or "co" are ordinary words.
    """
    if not text or len(text) > 1000:
        return None
    places = load_places(path)
    bare = text.strip().upper()
    if _ISO_CODE.match(bare) and bare in set(places.values()):
        return bare
    found = find_longest_phrase(text, _pattern(path))
    return places[found] if found else None


def is_place_name(text: str | None, *, path: Path = PLACES_FILE) -> bool:
    """The whole of `text` is a place we know ("Cancún"), not a name that contains one ("Banco de Bogotá")."""
    if not text or len(text) > 100:
        return False
    found = find_longest_phrase(text, _pattern(path))
    return found is not None and found == phrase_key(text.strip(" .,;:"))
