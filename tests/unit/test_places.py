from __future__ import annotations

from pathlib import Path

import pytest

from noc.domain.escalation import load_escalation_book
from noc.domain.places import country_from_place, load_places
from noc.domain.tables import TableError


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("lima", "PE"),
        ("Lima", "PE"),
        ("Perú", "PE"),
        ("peru", "PE"),
        ("PERÚ", "PE"),
        ("Arequipa", "PE"),
        ("Bogotá", "CO"),
        ("bogota", "CO"),
        ("Medellín", "CO"),
        ("medellin", "CO"),
        ("Cali", "CO"),
        ("Barranquilla", "CO"),
        ("Colombia", "CO"),
        ("CDMX", "MX"),
        ("Ciudad de México", "MX"),
        ("ciudad de mexico", "MX"),
        ("DF", "MX"),
        ("el D.F.", "MX"),
        ("Monterrey", "MX"),
        ("Guadalajara", "MX"),
        ("México", "MX"),
        ("Caracas", "VE"),
        ("Maracaibo", "VE"),
        ("Valencia", "VE"),  # a LatAm NOC: Valencia is Venezuela's, not Spain's
        ("Buenos Aires", "AR"),
        ("Córdoba", "AR"),
        ("Santiago", "CL"),
        ("Montevideo", "UY"),
        ("Asunción", "PY"),
        ("asuncion", "PY"),
        ("La Paz", "BO"),
        ("Santa Cruz", "BO"),
        ("Quito", "EC"),
        ("Guayaquil", "EC"),
        ("San José", "CR"),
        ("Panamá", "PA"),
        ("Ciudad de Panamá", "PA"),
        ("Ciudad de Guatemala", "GT"),
        ("San Salvador", "SV"),
        ("El Salvador", "SV"),
        ("Tegucigalpa", "HN"),
        ("Managua", "NI"),
        ("Santo Domingo", "DO"),
        ("San Juan", "PR"),
        ("Puerto Rico", "PR"),
        ("La Habana", "CU"),
        ("Kingston", "JM"),
        ("Belice", "BZ"),
        ("Estados Unidos", "US"),
        ("Madrid", "ES"),
    ],
)
def test_bare_place_names(text: str, country: str) -> None:
    assert country_from_place(text) == country


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("desde Lima", "PE"),
        ("estamos en Bogotá", "CO"),
        ("la sede de Ciudad de México", "MX"),
        ("Estoy en Santiago de los Caballeros", "DO"),  # longest alias beats "Santiago" (CL)
        ("somos de Santa Cruz de la Sierra", "BO"),
        ("Estados Unidos Mexicanos", "MX"),  # not "Estados Unidos"
        ("San José, Costa Rica", "CR"),
        ("oficina principal en Panamá.", "PA"),
        ("la sucursal de (Arequipa)", "PE"),
        ("hablamos desde la República Dominicana", "DO"),
        ("trabajo en EE.UU.", "US"),
        ("  en   MEDELLIN  ", "CO"),
        ("de Antigua Guatemala", "GT"),
    ],
)
def test_places_inside_phrases(text: str, country: str) -> None:
    assert country_from_place(text) == country


@pytest.mark.parametrize(("text", "country"), [("PE", "PE"), ("co", "CO"), (" MX ", "MX"), ("Ec", "EC")])
def test_bare_iso_codes(text: str, country: str) -> None:
    assert country_from_place(text) == country


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   ",
        "hola",
        "🙂🙂",
        "<script>alert(1)</script>",
        "'; DROP TABLE incidents; --",
        "x" * 10_000,
        "Limazo",  # word boundaries: no "Lima" inside another word
        "calidad",  # nor "Cali"
        "peruano",
        "ZZ",
        "el co es",  # ISO codes only count as the whole answer
        "Mérida",  # left out on purpose: Mexico and Venezuela both have one
        "Granada",  # Nicaragua, Spain and Grenada's Spanish name
        "12345",
    ],
)
def test_no_country(text: str | None) -> None:
    assert country_from_place(text) is None


def test_every_region_country_is_known_by_its_name() -> None:
    book = load_escalation_book()
    for region in book.regions.values():
        for code, name in region.country_names.items():
            if code == "GD":  # "Granada" is ambiguous, see places.yml
                continue
            assert country_from_place(name) == code, name


def test_aliases_are_normalized() -> None:
    places = load_places()
    assert places["bogota"] == "CO"
    assert places["ciudad de mexico"] == "MX"
    assert all(key == key.lower() for key in places)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("PE: [Lima]\nCO: [lima]\n", "está en PE y en CO"),
        ("PE: [Perú]\nCO: [PERU]\n", "está en PE y en CO"),
        ("pe: [Lima]\n", "código ISO"),
        ("PER: [Lima]\n", "código ISO"),
        ("PE: []\n", "lista de nombres"),
        ("PE: Lima\n", "lista de nombres"),
        ("PE: ['', Lima]\n", "nombre vacío"),
        ("PE: [3]\n", "nombre vacío"),
        ("- Lima\n", "mapeo"),
        ("PE: [Lima\n", "YAML inválido"),
    ],
)
def test_invalid_places_file(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "escalation_tables" / "places.yml"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TableError) as excinfo:
        load_places(path)
    assert "escalation_tables/places.yml" in str(excinfo.value)
    assert problem in str(excinfo.value)


def test_places_from_another_file(tmp_path: Path) -> None:
    path = tmp_path / "places.yml"
    path.write_text("PE: [Cusco]\n", encoding="utf-8")
    assert country_from_place("desde cusco", path=path) == "PE"
    assert country_from_place("desde Lima", path=path) is None
