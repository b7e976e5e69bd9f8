from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from noc.domain.validators import (
    CORRECTABLE_FIELDS,
    clean_company,
    clean_person_name,
    clean_symptom,
    correction_field,
    has_accented_email,
    normalize_email,
    normalize_service_id,
    normalize_text,
)

HOSTILE = [
    None,
    "",
    "   ",
    "\n\t",
    "🙂🙂",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "'; DROP TABLE incidents; --",
    "x" * 10_000,
    "\x00\x01\x02",
]

# Hostile inputs every validator except clean_symptom must refuse. The SQL one is
# a perfectly readable problem description (stored with bound parameters).
ALL_VALIDATORS: list[Callable[[str | None], str | None]] = [
    normalize_service_id,
    normalize_email,
    clean_person_name,
    clean_company,
    clean_symptom,
    correction_field,
]


@pytest.mark.parametrize("validator", ALL_VALIDATORS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_input_is_refused(validator: Callable[[str | None], str | None], text: str | None) -> None:
    if validator is clean_symptom and text == "'; DROP TABLE incidents; --":
        assert validator(text) == text
    else:
        assert validator(text) is None


# --- normalize_text ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bogotá", "bogota"),
        ("  PERÚ  ", "peru"),
        ("Año   Señal\n\tCaída", "ano senal caida"),
        ("Ünïcödé", "unicode"),
        ("", ""),
        ("ÀÉÎÕÜ ç", "aeiou c"),
    ],
)
def test_normalize_text(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


# --- service ID ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CO-MPLS-00123", "CO-MPLS-00123"),
        ("co-mpls-00123", "CO-MPLS-00123"),
        ("PE-INT-4501", "PE-INT-4501"),
        ("BOG12345", "BOG12345"),
        ("el servicio es CO-MPLS-00123", "CO-MPLS-00123"),
        ("ID: PE-INT-4501", "PE-INT-4501"),
        ("es el circuito mx-dia-778, gracias", "MX-DIA-778"),
        ("Servicio 12345", "12345"),
        ("  cl-vpn-0001  ", "CL-VPN-0001"),
        ("tengo 2 sedes, el ID es AR-INT-9", "AR-INT-9"),  # mixed letters+digits beat a number
        ("A1B2", "A1B2"),
        ("X" * 29 + "1", "X" * 29 + "1"),
    ],
)
def test_service_id(text: str, expected: str) -> None:
    assert normalize_service_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "hola",
        "123",
        "A12",
        "---",
        "-",
        "no lo sé",
        "servicio de internet",
        "MPLS-INTERNET",
        "X" * 30 + "1",  # 31 characters
        "ana.ruiz@banco123.com",  # part of an e-mail, not an ID
        "Ñandú-123",  # non-ASCII letters are not part of IDs
    ],
)
def test_service_id_rejected(text: str) -> None:
    assert normalize_service_id(text) is None


# --- e-mail ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ana@bancoandino.com", "ana@bancoandino.com"),
        ("mi correo es Ana.Ruiz@BancoAndino.com.co", "Ana.Ruiz@bancoandino.com.co"),
        ("  soporte+noc@Empresa.PE  ", "soporte+noc@empresa.pe"),
        ("ANA@X.COM", "ANA@x.com"),
        ("escríbeme a ana@x.com.", "ana@x.com"),
        ("<ana@x.com>", "ana@x.com"),
        ("mailto:ana_r@mi-empresa.com.mx", "ana_r@mi-empresa.com.mx"),
        ("correo: o'neil@x.org", "o'neil@x.org"),
        ("j.perez@sub.dominio.gob.ve", "j.perez@sub.dominio.gob.ve"),
    ],
)
def test_email(text: str, expected: str) -> None:
    assert normalize_email(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ana",
        "ana@",
        "@x.com",
        "ana@x",
        "ana@x.c",
        "ana@x.c0m",
        "ana..ruiz@x.com",
        "ana@-x.com",
        "ana@x-.com",
        "ana @x.com",
        "ana@x .com",
        "ana@@x.com",
        ".ana@x.com",
        "mi correo es ana arroba x punto com",
        "a" * 65 + "@x.com",
        "ana@" + "x" * 250 + ".com",
        "3001234567",
    ],
)
def test_email_rejected(text: str) -> None:
    assert normalize_email(text) is None


# --- person name -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ana Ruiz", "Ana Ruiz"),
        ("ana ruiz", "Ana Ruiz"),
        ("ANA RUIZ", "Ana Ruiz"),
        ("soy Ana Ruiz", "Ana Ruiz"),
        ("Me llamo José Pérez", "José Pérez"),
        ("me llamo josé pérez", "José Pérez"),
        ("mi nombre es María José Peña-Gómez", "María José Peña-Gómez"),
        ("Mi nombre es: Luis", "Luis"),
        ("habla Carlos", "Carlos"),
        ("Hola, soy Ana Ruiz.", "Ana Ruiz"),
        ("Buenos días, le habla Pedro", "Pedro"),
        ("JUAN DE LA CRUZ", "Juan de la Cruz"),
        ("Patrick O'Brien", "Patrick O'Brien"),
        ("Ma. Fernanda", "Ma. Fernanda"),
        ("McDonald", "McDonald"),  # mixed case is kept as typed
        ("Ñusta Quispe", "Ñusta Quispe"),
        ("my name is John Smith", "John Smith"),
        ("Jo", "Jo"),
        ("  Ana   Ruiz  ", "Ana Ruiz"),
    ],
)
def test_person_name(text: str, expected: str) -> None:
    assert clean_person_name(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "a",
        "12345",
        "Ana 2",
        "ana@x.com",
        "soy",
        "me llamo",
        "🙂",
        "Ana 🙂",
        "<b>Ana</b>",
        "Ana; DROP TABLE",
        "A" * 81,
        "uno dos tres cuatro cinco seis siete",
        "Ana_Ruiz",
        "Ana / Pedro",
        "--",
        "...",
    ],
)
def test_person_name_rejected(text: str) -> None:
    assert clean_person_name(text) is None


# --- company -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BancoAndino", "BancoAndino"),
        ("de la empresa BancoAndino S.A.", "BancoAndino S.A."),
        ("Somos Telecom Andina S.A.S.", "Telecom Andina S.A.S."),
        ("empresa Minera del Sur", "Minera del Sur"),
        ("trabajo en 3M", "3M"),
        ("AT&T", "AT&T"),
        ("Empresa de Energía de Bogotá", "Empresa de Energía de Bogotá"),
        ("Compañía Minera (Perú)", "Compañía Minera (Perú)"),
        ("la empresa es Banco Andino, S.A.", "Banco Andino, S.A."),
        ("O'Higgins Logística", "O'Higgins Logística"),
        ("Grupo Éxito", "Grupo Éxito"),
        ("bancoandino", "bancoandino"),
        ("Tiendas 24-7", "Tiendas 24-7"),
    ],
)
def test_company(text: str, expected: str) -> None:
    assert clean_company(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "a",
        "12345",
        "123-456",
        "empresa",
        "somos",
        "🙂",
        "Banco 🙂",
        "<b>Banco</b>",
        "Banco; DROP TABLE x",
        "ventas@banco.com",
        "B" * 101,
        "Banco #1",
        "Banco_Andino",
    ],
)
def test_company_rejected(text: str) -> None:
    assert clean_company(text) is None


# --- symptom ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no tenemos internet", "no tenemos internet"),
        ("  Se cae el enlace cada 5 minutos  ", "Se cae el enlace cada 5 minutos"),
        ("lento!!!", "lento!!!"),
        ("the link is down", "the link is down"),
        ("ping 8.8.8.8 -> 40% de pérdida", "ping 8.8.8.8 -> 40% de pérdida"),
        ("sin servicio 🙁", "sin servicio 🙁"),
        ("línea 1\nlínea 2", "línea 1\nlínea 2"),
        ("a < b y c > d", "a < b y c > d"),  # comparisons are not tags
        ("x" * 1000, "x" * 1000),
    ],
)
def test_symptom(text: str, expected: str) -> None:
    assert clean_symptom(text) == expected


@pytest.mark.parametrize(
    "text",
    ["ab", "12345", "!!!", "🙂🙂🙂", "<b>no hay internet</b>", "se cayó <script>x</script>", "x" * 1001, "a1"],
)
def test_symptom_rejected(text: str) -> None:
    assert clean_symptom(text) is None


# --- correction_field --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("correo", "contact_email"),
        ("el correo está mal", "contact_email"),
        ("Mail", "contact_email"),
        ("el email", "contact_email"),
        ("mi e-mail", "contact_email"),
        ("el correo electrónico", "contact_email"),
        ("teléfono", "contact_phone"),
        ("telefono", "contact_phone"),
        ("el celular", "contact_phone"),
        ("el número", "contact_phone"),
        ("el número de teléfono está mal", "contact_phone"),
        ("WhatsApp", "contact_phone"),
        ("nombre", "contact_name"),
        ("mi nombre está mal escrito", "contact_name"),
        ("la empresa", "company"),
        ("Compañía", "company"),
        ("la razón social", "company"),
        ("el nombre de la empresa", "company"),  # longest phrase wins over "nombre"
        ("servicio", "service_id"),
        ("el ID", "service_id"),
        ("el código del servicio", "service_id"),
        ("el número del circuito", "service_id"),  # not the phone "número"
        ("circuito", "service_id"),
        ("el problema", "symptom"),
        ("la falla", "symptom"),
        ("la descripción", "symptom"),
        ("desde cuándo", "started"),
        ("desde cuando", "started"),
        ("la hora", "started"),
        ("la fecha está mal", "started"),
        ("el país", "country"),
        ("PAIS", "country"),
    ],
)
def test_correction_field(text: str, field: str) -> None:
    assert correction_field(text) == field
    assert field in CORRECTABLE_FIELDS


@pytest.mark.parametrize(
    "text",
    ["no", "todo está bien", "ahora", "idea", "el", "mailing", "teléfonos", "sí, confirmo", "12345"],
)
def test_correction_field_none(text: str) -> None:
    assert correction_field(text) is None


def test_correctable_fields() -> None:
    assert CORRECTABLE_FIELDS == (
        "company",
        "service_id",
        "contact_name",
        "contact_phone",
        "contact_email",
        "symptom",
        "started",
        "country",
    )


def _random_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    pool = "aAñÑáÉü 0123456789-_.,;:@<>/\\'\"()[]{}+*&%$#!¡?¿\n\t🙂\u0303\x00"
    words = ["soy", "me llamo", "empresa", "de la", "correo", "hace", "ayer", "a las", "ID", "CO-MPLS-1"]
    texts = []
    for _ in range(count):
        parts = [rng.choice(words) if rng.random() < 0.3 else "".join(rng.choices(pool, k=rng.randint(0, 12)))]
        parts += [rng.choice(words) for _ in range(rng.randint(0, 3))]
        texts.append(" ".join(parts) if rng.random() < 0.5 else "".join(parts))
    return texts


@pytest.mark.parametrize("validator", ALL_VALIDATORS, ids=lambda f: f.__name__)
def test_random_input_never_raises(validator: Callable[[str | None], str | None]) -> None:
    for text in _random_texts(400, seed=20261125):
        result = validator(text)
        assert result is None or isinstance(result, str)


@pytest.mark.parametrize(
    ("text", "entity", "expected"),
    [
        (
            "Grupo Industrial del Norte S.A. de C.V.",
            "Industrial del Norte S.A. de C.V.",
            "Grupo Industrial del Norte S.A. de C.V.",
        ),
        ("Somos Grupo Éxito y el enlace está caído", "Éxito", "Grupo Éxito"),
        ("Hola, soy Ana de Banco Andino S.A., el enlace", "Andino S.A.", "Banco Andino S.A."),
        ("trabajo en Banco Andino", "Banco Andino", "Banco Andino"),
        # Only the suffix tagged, after the comma some companies write.
        ("les habla Rosa de Lácteos El Ordeño, S.R.L., en Santiago", "S.R.L.", "Lácteos El Ordeño, S.R.L."),
        ("somos Maquinaria Pesada del Golfo, S. de R.L. de C.V.", "S. de R.L. de C.V.", None),
        ("de Aceros Mendoza SA de CV. Desde ayer", "CV", "Aceros Mendoza SA de CV"),
        # The entity stops inside "S.A.": a name never ends mid-word.
        ("Saludos, Iván Mora de Seguros Caribe S.A. (Panamá)", "Seguros Caribe S", "Seguros Caribe S.A."),
        ("de Pesquera Austral C.A. en Maracay", "Pesquera Austral C", "Pesquera Austral C.A."),
        ("es Comercial Los Pinos Ltda.", "Comercial Los Pinos Ltda", "Comercial Los Pinos Ltda."),
        # A parenthesis after the name is not part of it.
        ("Saludos, Rita Díaz de Banco Austral S.A. (Chile). El enlace", "Banco Austral S.A. (", "Banco Austral S.A."),
        # The entity stops before "de C.V.".
        ("de Vidrios Tonalá SA de CV. La fibra", "Vidrios Tonalá SA", "Vidrios Tonalá SA de CV"),
        ("soy Raúl de Grupo Delta S.A. de C.V., necesitamos", "Grupo Delta S.A.", "Grupo Delta S.A. de C.V."),
    ],
)
def test_company_entity_keeps_all_its_words(text: str, entity: str, expected: str) -> None:
    from noc.domain.validators import expand_company_entity

    assert expand_company_entity(text, entity) == (expected or text.removeprefix("somos "))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Ana María Ruiz", "Ana María Ruiz"),
        ("María del Carmen Ortiz", "María del Carmen Ortiz"),
        ("Pablo Ríos del Bufete Ríos y Asociados", "Pablo Ríos"),
        ("Teresa Gil de Lavandería Gil S.A.C.", "Teresa Gil"),
        ("Constructora Valdivia SpA", None),
        ("Estudio Jurídico Morales", None),
    ],
)
def test_a_person_name_stops_where_a_company_starts(name: str, expected: str | None) -> None:
    from noc.domain.validators import person_without_company

    assert person_without_company(name) == expected


@pytest.mark.parametrize(
    ("text", "entity", "expected"),
    [
        ("Buenas, les escribe Ana María Ruiz de Banco Andino", "María Ruiz", "Ana María Ruiz"),
        ("Soy Ana María Ruiz.", "Ana María", "Ana María Ruiz"),
        ("habla Pedro", "Pedro", "Pedro"),
    ],
)
def test_person_entity_keeps_all_its_words(text: str, entity: str, expected: str) -> None:
    from noc.domain.validators import expand_person_entity

    assert expand_person_entity(text, entity) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("somos de Transportes Andinos SAS, en Medellín", "Transportes Andinos SAS"),
        ("Cafetalera Tarrazú S.A., aquí en Costa Rica", "Cafetalera Tarrazú S.A."),
        ("Banco Andino S.A.", "Banco Andino S.A."),
    ],
)
def test_a_legal_suffix_ends_the_company(text: str, expected: str) -> None:
    assert clean_company(text) == expected


def test_a_particle_between_capitalised_words_stays_in_the_company() -> None:
    from noc.domain.validators import expand_company_entity

    text = "Hola! Soy Lucía Fernández, de Cooperativa Multiactiva del Sur Ltda., Asunción"
    assert expand_company_entity(text, "Sur Ltda.") == "Cooperativa Multiactiva del Sur Ltda."


@pytest.mark.parametrize(
    ("company", "people", "expected"),
    [
        ("Ana Ruiz de Banco Andino", ["Ana Ruiz"], "Banco Andino"),
        ("Pablo Ríos, del Bufete Ríos y Asociados", ["Pablo Ríos"], "Bufete Ríos y Asociados"),
        ("Sonia Paz de la Clínica del Valle", [], "Clínica del Valle"),  # no person known: the company word
        ("Cooperativa Multiactiva del Sur Ltda.", [], "Cooperativa Multiactiva del Sur Ltda."),
        ("Banco de Crédito del Perú", [None], "Banco de Crédito del Perú"),
        ("Transportes de Carga del Sur", ["Carga"], "Transportes de Carga del Sur"),
    ],
)
def test_a_company_tagged_with_the_person_keeps_the_company(company: str, people: list, expected: str) -> None:
    from noc.domain.validators import company_without_person

    assert company_without_person(company, people) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("la misma que ya tienen registrada", True),
        ("ustedes ya saben cual es la empresa", True),
        ("clinica santa lucia", False),
        ("distribuidora de repuestos del norte grande", False),  # a company word
        ("Pinturas y Acabados del Caribe Sociedad Anónima", False),  # capitalised
    ],
)
def test_a_lowercase_remark_is_no_company_name(text: str, expected: bool) -> None:
    from noc.domain.validators import is_a_sentence

    assert is_a_sentence(text) is expected


@pytest.mark.parametrize(
    ("text", "names", "expected"),
    [
        ("buenas tardes, les escribe Ana María Ruiz", ["Ana", "María Ruiz"], False),
        ("Saludos, soy Iván Mora de Seguros Caribe S.A.", ["Iván Mora", "Seguros Caribe S.A."], False),
        ("hola", [], False),
        ("hola, no tengo internet", [], True),
        ("buenas, tengo un problema con el enlace", [], True),
        ("somos Lácteos El Ordeño, se cayó todo", ["Lácteos El Ordeño"], True),
    ],
)
def test_a_first_message_that_only_greets_describes_no_problem(text: str, names: list[str], expected: bool) -> None:
    from noc.domain.validators import says_what_happens

    assert says_what_happens(text, names) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bajú@micoope.com.gt", True),
        ("es peña@empresa.com, el de la oficina", True),
        ("ana@empresá.com", True),
        ("ana.ruiz@bancoandino.com.co", False),
        ("José Pérez, sin correo", False),
        ("", False),
    ],
)
def test_has_accented_email(text: str, expected: bool) -> None:
    assert has_accented_email(text) is expected
