from __future__ import annotations

import random

import pytest

from noc.domain.phones import PhoneResult, country_from_phone, normalize_phone


@pytest.mark.parametrize(
    ("raw", "country", "e164", "region"),
    [
        # Colombia
        ("+57 300 123 4567", None, "+573001234567", "CO"),
        ("0057 3001234567", None, "+573001234567", "CO"),
        ("3001234567", "CO", "+573001234567", "CO"),
        ("300-123-4567", "co", "+573001234567", "CO"),
        ("(601) 234 5678", "CO", "+576012345678", "CO"),
        ("573001234567", "CO", "+573001234567", "CO"),
        # Peru
        ("+51 987 654 321", None, "+51987654321", "PE"),
        ("987654321", "PE", "+51987654321", "PE"),
        ("(01) 555-1234", "PE", "+5115551234", "PE"),
        # Mexico, including WhatsApp's old +52 1 mobile form
        ("+52 55 1234 5678", None, "+525512345678", "MX"),
        ("55 1234 5678", "MX", "+525512345678", "MX"),
        ("+5215512345678", None, "+525512345678", "MX"),
        # Argentina: mobile with the 9, and a Buenos Aires landline
        ("+54 9 11 2345 6789", None, "+5491123456789", "AR"),
        ("whatsapp:+5491123456789", None, "+5491123456789", "AR"),
        ("011 4321-1234", "AR", "+541143211234", "AR"),
        # Chile
        ("+56 2 2123 4567", None, "+56221234567", "CL"),
        ("+56 9 6123 4567", None, "+56961234567", "CL"),
        # Venezuela
        ("+58 412 123 4567", None, "+584121234567", "VE"),
        ("0412-1234567", "VE", "+584121234567", "VE"),
        # Central America and the Caribbean
        ("+506 8312 3456", None, "+50683123456", "CR"),
        ("+507 6123-4567", None, "+50761234567", "PA"),
        ("+1 809 234 5678", None, "+18092345678", "DO"),
        ("809-234-5678", "DO", "+18092345678", "DO"),
        ("+1 787 234 5678", None, "+17872345678", "PR"),
        # separators, channel prefixes and extensions
        ("tel:+57-300-123-4567", None, "+573001234567", "CO"),
        ("WhatsApp: +51 987 654 321", None, "+51987654321", "PE"),
        ("+57 (300) 123.4567", None, "+573001234567", "CO"),
        ("300 123 4567 ext. 12", "CO", "+573001234567", "CO"),
        # a +number wins over the country given for national numbers
        ("+51 987 654 321", "CO", "+51987654321", "PE"),
    ],
)
def test_valid_numbers(raw: str, country: str | None, e164: str, region: str) -> None:
    assert normalize_phone(raw, country=country) == PhoneResult(e164=e164, country=region, error=None)


@pytest.mark.parametrize(
    ("raw", "country", "e164"),
    [
        ("mi número es +57 300 123 4567", None, "+573001234567"),
        # the plus sign written as a word
        ("más 51 987 654 321", None, "+51987654321"),
        ("el fijo es mas 503 2555 0199", None, "+50325550199"),
        ("mi número es +57 300 123 4567, gracias", None, "+573001234567"),
        ("llámame al 300 123 4567 por favor", "CO", "+573001234567"),
        ("cel: 987 654 321", "PE", "+51987654321"),
        ("mi whatsapp es +54 9 11 2345-6789", None, "+5491123456789"),
    ],
)
def test_numbers_inside_phrases(raw: str, country: str | None, e164: str) -> None:
    result = normalize_phone(raw, country=country)
    assert result.e164 == e164 and result.error is None and result.ok


@pytest.mark.parametrize(
    "raw",
    ["3001234567", "300 123 4567", "mi número es 300 123 4567", "(01) 555-1234", "987654321"],
)
@pytest.mark.parametrize("country", [None, "", "XX", "zz"])
def test_national_numbers_need_a_country(raw: str, country: str | None) -> None:
    assert normalize_phone(raw, country=country) == PhoneResult(None, None, "needs_country")


@pytest.mark.parametrize(
    ("raw", "country"),
    [
        (None, None),
        ("", None),
        ("   ", "CO"),
        ("abc", None),
        ("no tengo", "CO"),
        ("mi número es secreto", None),
        ("123", "CO"),
        ("12345", None),
        ("+57 300", None),
        ("+57 300 123", None),
        ("+57 3001234567890123", None),
        ("+5730012345678901234", None),
        ("+57 000 000 0000", None),
        ("+1 555 0100", None),
        ("1234567", "CO"),  # seven digits: not a Colombian number
        ("+999 1234 5678", None),
        ("🙂🙂", None),
        ("<script>alert(1)</script>", None),
        ("'; DROP TABLE incidents; --", "CO"),
        ("9" * 10_000, "CO"),
        ("+57 300 ABC DEFG", None),
        ("ana.ruiz@bancoandino.com.co", None),
    ],
)
def test_invalid_numbers(raw: str | None, country: str | None) -> None:
    result = normalize_phone(raw, country=country)
    assert result == PhoneResult(None, None, "invalid")
    assert not result.ok


@pytest.mark.parametrize(
    ("e164", "country"),
    [
        ("+573001234567", "CO"),
        ("+51987654321", "PE"),
        ("+5491123456789", "AR"),
        ("+18092345678", "DO"),
        ("+17872345678", "PR"),
        ("+12015550123", "US"),
        ("+34912345678", "ES"),
        ("3001234567", None),
        ("", None),
        ("garbage", None),
        ("+999", None),
    ],
)
def test_country_from_phone(e164: str, country: str | None) -> None:
    assert country_from_phone(e164) == country


def test_random_input_never_raises() -> None:
    rng = random.Random(11)
    pool = "0123456789 +-()./abcx:🙂"
    for _ in range(500):
        text = "".join(rng.choices(pool, k=rng.randint(0, 25)))
        result = normalize_phone(text, country=rng.choice([None, "CO", "PE", "XX"]))
        assert (result.e164 is None) == (result.error is not None)
