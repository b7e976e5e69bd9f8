"""Contact phone numbers: parse what the customer typed into E.164."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

NEEDS_COUNTRY = "needs_country"
INVALID = "invalid"

# Prefixes that chat channels put in front of the number (Twilio's WhatsApp ids).
_CHANNEL_PREFIX = re.compile(r"^\s*(?:whatsapp|tel|wa|sms)\s*:\s*", re.IGNORECASE)
# Only what people write inside a phone number; anything else means a phrase.
_PHONE_SHAPED = re.compile(r"^\+?[\d\s().\-/]+(?:\s*(?:ext\.?|extension|anexo|x)\s*\d{1,6})?$", re.IGNORECASE)
_DIGIT_RUN = re.compile(r"\+?\d[\d\s().\-/]{5,}\d")


@dataclass(frozen=True)
class PhoneResult:
    e164: str | None
    country: str | None
    # None, "needs_country" (national number and no country to read it with) or "invalid".
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _to_international(text: str) -> str:
    # "0057 300..." is the international dialling form used across LatAm.
    stripped = text.strip()
    if stripped.startswith("00"):
        return "+" + stripped[2:].lstrip()
    # "más 57 315…": the plus sign written as a word (dictated, or typed on a phone without it).
    return _PLUS_AS_WORD.sub("+", stripped)


_PLUS_AS_WORD = re.compile(r"\b(?:m[aá]s|plus)\s*(?=\d{1,3}[\s.-]*\d)", re.IGNORECASE)


def _valid(number: phonenumbers.PhoneNumber) -> phonenumbers.PhoneNumber | None:
    if phonenumbers.is_valid_number(number):
        return number
    # WhatsApp still shows Mexican mobiles in the pre-2019 form +52 1 ...: drop the 1.
    national = str(number.national_number)
    if number.country_code == 52 and len(national) == 11 and national.startswith("1"):
        fixed = phonenumbers.PhoneNumber(country_code=52, national_number=int(national[1:]))
        if phonenumbers.is_valid_number(fixed):
            return fixed
    return None


def _result(number: phonenumbers.PhoneNumber) -> PhoneResult:
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return PhoneResult(e164=e164, country=phonenumbers.region_code_for_number(number), error=None)


def _parse_whole(text: str, region: str | None) -> PhoneResult:
    digits = _digits(text)
    if not 6 <= len(digits) <= 15:
        return PhoneResult(None, None, INVALID)
    if not text.startswith("+") and region is None:
        return PhoneResult(None, None, NEEDS_COUNTRY)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return PhoneResult(None, None, INVALID)
    valid = _valid(number)
    return _result(valid) if valid else PhoneResult(None, None, INVALID)


def _search_phrase(text: str, region: str | None) -> PhoneResult:
    for match in phonenumbers.PhoneNumberMatcher(text, region or "ZZ"):
        valid = _valid(match.number)
        if valid:
            return _result(valid)
    # Something number-like but unreadable: national digits with no country to read them.
    for run in _DIGIT_RUN.finditer(text):
        candidate = _to_international(run.group(0))
        result = _parse_whole(candidate, region)
        if result.error != INVALID:
            return result
    return PhoneResult(None, None, INVALID)


def normalize_phone(raw: str | None, *, country: str | None = None) -> PhoneResult:
    """Parse a phone number typed alone or inside a phrase.

    `country` (ISO 3166 alpha-2) reads national numbers such as "300 123 4567";
    without it only numbers with +CC or 00CC can be understood.
    """
    if raw is None or not raw.strip() or len(raw) > 500:
        return PhoneResult(None, None, INVALID)
    region = country.upper() if country else None
    if region not in phonenumbers.SUPPORTED_REGIONS:
        region = None
    text = _to_international(_CHANNEL_PREFIX.sub("", raw))
    if _PHONE_SHAPED.match(text):
        return _parse_whole(text, region)
    return _search_phrase(text, region)


def country_from_phone(e164: str) -> str | None:
    """ISO country of an international number, or None if it isn't one."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(number)
    return region if region and region != "ZZ" else None
