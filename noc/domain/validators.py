"""Pure validators for the incident form's free-text fields.

Every function takes what the customer typed (or None) and returns the cleaned
value, or None when the answer cannot be used and the form must ask again.
They never raise on odd input: the chat is open to anyone, so hostile or
garbage text is an ordinary case here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

CORRECTABLE_FIELDS = (
    "company",
    "service_id",
    "contact_name",
    "contact_phone",
    "contact_email",
    "symptom",
    "started",
    "country",
)

# A tag name right after "<" (as browsers require), so "a < b y c > d" is not a tag.
_HTML_TAG = re.compile(r"</?[a-zA-Z!][^<>]*>")
_WHITESPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Lower-case, strip accents and collapse whitespace, for matching only.

    'ñ' becomes 'n' too: customers often type without accents and a matcher
    that needs them would miss half the answers.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _WHITESPACE.sub(" ", stripped).strip()


def _match_form(text: str) -> str:
    # Punctuation becomes a space so "e-mail", "Perú." or "(Lima)" match their aliases.
    return _WHITESPACE.sub(" ", re.sub(r"[^\w\s]|_", " ", normalize_text(text))).strip()


def compile_phrases(phrases: Iterable[str]) -> re.Pattern[str]:
    """One pattern finding every phrase on word boundaries, overlaps included.

    The lookahead makes finditer report a match at every position, so a longer
    phrase starting inside a shorter one is not hidden by it.
    """
    forms = sorted({_match_form(p) for p in phrases if _match_form(p)}, key=len, reverse=True)
    if not forms:
        return re.compile(r"(?!)")
    alternation = "|".join(re.escape(f) for f in forms)
    return re.compile(rf"(?=(?<!\w)({alternation})(?!\w))")


def find_longest_phrase(text: str, pattern: re.Pattern[str]) -> str | None:
    """The longest phrase of `pattern` in `text` (normalized form), earliest on ties."""
    best: str | None = None
    for match in pattern.finditer(_match_form(text)):
        found = match.group(1)
        if best is None or len(found) > len(best):
            best = found
    return best


def phrase_key(phrase: str) -> str:
    """The normalized form under which compile_phrases/find_longest_phrase see a phrase."""
    return _match_form(phrase)


def has_html(text: str) -> bool:
    return bool(_HTML_TAG.search(text))


def _letters(text: str) -> int:
    return sum(1 for ch in text if ch.isalpha())


def _strip_control(text: str) -> str:
    # Control characters (other than newlines and tabs) only break logs and summaries.
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")


def _strip_prefixes(text: str, prefixes: Iterable[str], *, not_before: dict[str, set[str]] | None = None) -> str:
    """Remove introductory words ("me llamo", "somos de"...) repeatedly, accent-insensitively.

    `not_before` keeps a prefix when the next word shows it belongs to the value
    itself: "Empresa de Energía de Bogotá" is a company name, not "empresa" + name.
    """
    ordered = sorted((phrase_key(p) for p in prefixes), key=len, reverse=True)
    guards = not_before or {}
    changed = True
    while changed:
        changed = False
        text = text.strip(_EDGE_PUNCTUATION)
        words = _match_form(text).split(" ")
        for prefix in ordered:
            size = len(prefix.split(" "))
            if words[:size] != prefix.split(" "):
                continue
            following = words[size] if len(words) > size else ""
            if following in guards.get(prefix, set()):
                continue
            shorter = _cut_words(text, prefix)
            changed = shorter != text  # never loop on a prefix that cannot be cut
            text = shorter
            break
    return text.strip(_EDGE_PUNCTUATION)


_EDGE_PUNCTUATION = " \t\n\r,.:;-!¡?¿"


def _cut_words(text: str, prefix: str) -> str:
    """`text` without its leading words whose match form is `prefix`.

    Cuts at a word boundary of the original text, so "Hola,soy Ana" loses
    "Hola" even with no space after the comma.
    """
    for end in range(1, len(text) + 1):
        at_boundary = end == len(text) or not text[end].isalnum()
        if at_boundary and _match_form(text[:end]) == prefix:
            return text[end:]
    return text


# --- service ID ---------------------------------------------------------------

_SERVICE_ID_TOKEN = re.compile(r"(?<![A-Za-z0-9@.\-])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*(?![A-Za-z0-9@])")


def normalize_service_id(text: str | None) -> str | None:
    """Find the service/circuit ID in an answer and return it upper-cased.

    An ID is 4-30 ASCII letters/digits with inner dashes and at least one digit.
    When several tokens qualify, one mixing letters and digits wins over a bare
    number, because bare numbers in a sentence are more often counts or times.
    """
    if not text or has_html(text):
        return None
    candidates = [
        token
        for token in _SERVICE_ID_TOKEN.findall(text)
        if 4 <= len(token) <= 30 and any(ch.isdigit() for ch in token)
    ]
    if not candidates:
        return None
    mixed = [c for c in candidates if any(ch.isalpha() for ch in c)]
    return (mixed or candidates)[0].upper()


# --- e-mail -------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.+\-'%])"
    r"(?P<local>[A-Za-z0-9](?:[A-Za-z0-9._%+'\-]*[A-Za-z0-9_%+\-])?)"
    r"@"
    r"(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,24})"
    r"(?![\w\-])"
)


def normalize_email(text: str | None) -> str | None:
    """Extract the first syntactically valid e-mail; the domain is lower-cased.

    The local part keeps its case: some mail servers treat it as case-sensitive.
    """
    if not text or len(text) > 2000:
        return None
    match = _EMAIL.search(text.strip())
    if not match:
        return None
    local, domain = match.group("local"), match.group("domain").lower()
    if ".." in local or len(local) > 64 or len(local) + len(domain) + 1 > 254:
        return None
    return f"{local}@{domain}"


# An address-like run whose letters include accents or ñ ("bajú@micoope.com.gt"):
# such addresses exist (SMTPUTF8) but corporate mail seldom takes them, and the
# customer has usually added the accent by habit; the answer says so.
_ACCENTED_EMAIL = re.compile(r"[\w.+%'\-]+@[\w\-]+(?:\.[\w\-]+)+")


def has_accented_email(text: str | None) -> bool:
    """Whether the text holds something shaped as an e-mail with non-ASCII letters."""
    return any(not match.group().isascii() for match in _ACCENTED_EMAIL.finditer(text or ""))


# --- person name --------------------------------------------------------------

_NAME_PREFIXES = (
    "hola",
    "buenas",
    "buenos dias",
    "buenas tardes",
    "buenas noches",
    "soy",
    "yo soy",
    "me llamo",
    "mi nombre es",
    "el nombre es",
    "habla",
    "le habla",
    "te habla",
    "les habla",
    "con",
    "mucho gusto",
    "un gusto",
    "con gusto",
    "claro",
    "si",
    "ok",
    "de parte de",
    "a nombre de",
    "nombre",
    "es",
    "el ingeniero",
    "la ingeniera",
    "ingeniero",
    "ingeniera",
    "ing",
    "el ing",
    "la ing",
    "el lic",
    "la lic",
    "la licda",
    "licda",
    "el dr",
    "la dra",
    "el sr",
    "la sra",
    "el licenciado",
    "la licenciada",
    "licenciado",
    "licenciada",
    "lic",
    "el doctor",
    "la doctora",
    "doctor",
    "doctora",
    "dr",
    "dra",
    "el senor",
    "la senora",
    "senor",
    "senora",
    "sr",
    "sra",
    "srta",
    "my name is",
    "i am",
    "this is",
)
# Particles stay lower-case when we fix the case of "JUAN DE LA CRUZ".
_NAME_PARTICLES = {"de", "del", "la", "las", "los", "y", "da", "do", "dos", "das", "van", "von"}
_NAME_EXTRA_CHARS = set(" '’.-")


def _name_case(name: str) -> str:
    words = name.split(" ")
    result = []
    for index, word in enumerate(words):
        lower = word.lower()
        if index > 0 and lower in _NAME_PARTICLES:
            result.append(lower)
        else:
            result.append(lower.title())
    return " ".join(result)


def clean_person_name(text: str | None) -> str | None:
    """A contact name: letters (any script/accents), spaces, apostrophes, dots, hyphens."""
    if not text or len(text) > 200:
        return None
    name = _WHITESPACE.sub(" ", _strip_prefixes(text, _NAME_PREFIXES)).strip()
    if not 2 <= len(name) <= 80 or _letters(name) < 2:
        return None
    if len(name.split()) > 6:
        return None  # a sentence, not a name
    for ch in name:
        if not (ch.isalpha() or ch in _NAME_EXTRA_CHARS or unicodedata.combining(ch)):
            return None
    if name == name.lower() or name == name.upper():
        name = _name_case(name)
    return name


# Capitalised words that open a sentence, never a name ("Les escribe Ana…").
_NOT_NAME_WORDS = {
    "soy",
    "habla",
    "les",
    "le",
    "te",
    "me",
    "mi",
    "buenas",
    "buenos",
    "hola",
    "escribe",
    "saluda",
    "el",
    "la",
    "de",
    "con",
    "yo",
    "nombre",
    "contacto",
    "atentamente",
    "ing",
    "lic",
    "dr",
    "dra",
    "sr",
    "sra",
    "buen",
    "dia",
}


# Capitalised words that open a sentence, never part of a company's name ("Somos Grupo…").
_NOT_COMPANY_WORDS = {
    "soy",
    "somos",
    "hola",
    "buenas",
    "buenos",
    "buen",
    "dia",
    "les",
    "le",
    "te",
    "escribe",
    "escribo",
    "trabajo",
    "trabajamos",
    "llamo",
    "llamamos",
    "es",
    "de",
    "del",
    "desde",
    "para",
    "por",
    "con",
    "en",
}


def _expand_capitalised(text: str, value: str, stop_words: set[str], *, start: int | None = None) -> str:
    """`value` with the capitalised words right before and after it in `text`.

    The model sometimes tags only the last words of a compound name ("María
    Ruiz" of "Ana María Ruiz", "Industrial del Norte S.A." of "Grupo Industrial
    del Norte S.A."); a capitalised word touching the entity, and not a word
    that opens a sentence, belongs to it.
    """
    if start is None:
        start = text.find(value)
    if start < 0 or not value:
        return value
    before: list[str] = []
    words = text[:start].split()
    index = len(words) - 1
    while index >= 0:
        bare = words[index].strip(_EDGE_PUNCTUATION)
        # "de" often joins a person to a company ("Soy Ana de Banco Andino"): not a joining particle here.
        particle = bare.lower() in _NAME_PARTICLES and bare.lower() != "de" and index > 0
        if particle:
            # "Cooperativa Multiactiva del Sur": a particle between capitalised words belongs.
            previous = words[index - 1].strip(_EDGE_PUNCTUATION)
            if words[index - 1] != previous or not previous[:1].isupper() or phrase_key(previous) in stop_words:
                break
        elif words[index] != bare or not bare[:1].isupper() or phrase_key(bare) in stop_words:
            break
        before.insert(0, bare)
        index -= 1
    after: list[str] = []
    rest = text[start + len(value) :]
    if rest[:1] == " ":
        for word in rest.split():
            bare = word.strip(_EDGE_PUNCTUATION)
            if not bare[:1].isupper() or phrase_key(bare) in stop_words:
                break
            after.append(bare)
            if word != bare:
                break
    return " ".join([*before, value, *after])


def expand_person_entity(text: str, value: str) -> str:
    """The whole name around a partial person entity ("María Ruiz" in "…Ana María Ruiz de…")."""
    return _expand_capitalised(text, value, _NOT_NAME_WORDS)


# A legal suffix on its own, as the model sometimes tags it ("S.R.L." of "La Bodeguita, S.R.L.").
_LEGAL_SUFFIX_ONLY = re.compile(
    r"^(?:S\.?\s?A\.?(?:\s?[SCA]\.?)?|Ltda\.?|S\.?\s?R\.?\s?L\.?|SpA|C\.?\s?A\.?|E\.?\s?I\.?\s?R\.?\s?L\.?|"
    r"S\.?\s?A\.?\s+de\s+C\.?\s?V\.?|SA\s+de\s+CV|S\.\s?de\s+R\.?\s?L\.?(?:\s+de\s+C\.?\s?V\.?)?|C\.?\s?V\.?|Inc\.?|Corp\.?)$",
    re.IGNORECASE,
)
# The words of a Mexican suffix before its last part ("SA de " before "CV").
_SUFFIX_HEAD = re.compile(r"(?:\bS\.?\s?A\.?|\bS\.\s?de\s+R\.?\s?L\.?)\s+de\s+$", re.IGNORECASE)


_ABBREVIATIONS = {"ltda", "inc", "corp", "cia", "hnos", "asoc"}


def _whole_tokens(text: str, value: str) -> tuple[int, str]:
    """Where `value` starts in `text`, and `value` grown to the end of the word it stops in.

    The tokenizer may end an entity inside "S.A." ("Banco Istmeño S"): a name
    never stops in the middle of a word.
    """
    start = text.find(value)
    if start < 0:
        return start, value
    value = value.rstrip(" (")  # "Banco Istmeño S.A. (" of "… S.A. (Panamá)"
    end = start + len(value)
    while end < len(text) and not text[end].isspace() and text[end] not in ",;:()!?¡¿":
        end += 1
    grown = text[start:end]
    last = grown.split()[-1] if grown.split() else ""
    if last.endswith(".") and "." not in last[:-1] and phrase_key(last[:-1]) not in _ABBREVIATIONS:
        grown = grown[:-1]  # "SA de CV." ends a sentence; "S.A." and "Ltda." keep their dot
    return start, grown


def expand_company_entity(text: str, value: str) -> str:
    """The whole company around a partial company entity ("Grupo" before "Industrial del Norte S.A.")."""
    start, value = _whole_tokens(text, value)
    if start < 0:
        return value
    value = _with_suffix_end(text, start, value)
    head = _SUFFIX_HEAD.search(text[:start])
    if head and _LEGAL_SUFFIX_ONLY.match(text[head.start() : start] + value):
        start, value = head.start(), text[head.start() : start] + value
    if _LEGAL_SUFFIX_ONLY.match(value.strip()):
        # Only the suffix was tagged: the name is the capitalised words before it,
        # across the comma some companies write ("Supermercados La Bodeguita, S.R.L.").
        before = text[:start]
        name_end = len(before.rstrip().rstrip(",").rstrip())
        words = before[:name_end].split()
        if words and words[-1][:1].isupper():
            last_start = name_end - len(words[-1])
            name = _expand_capitalised(before[:name_end], words[-1], _NOT_COMPANY_WORDS, start=last_start)
            if phrase_key(name.split()[0]) not in _NOT_COMPANY_WORDS:
                return f"{name}{before[name_end:]}{value}"
        return value
    if value.rstrip().endswith((".", ",")):
        # A legal suffix ends the name: expand only to the left.
        return _expand_capitalised(text[: start + len(value)], value, _NOT_COMPANY_WORDS, start=start)
    grown = _expand_capitalised(text, value, _NOT_COMPANY_WORDS, start=start)
    # "Autopartes" grown to "Autopartes Monterrey SA", which goes on with "de CV".
    at = text.find(grown)
    return _with_suffix_end(text, at, grown) if at >= 0 else grown


_SUFFIX_CONTINUES = re.compile(r"^\s+de\s+C\.?\s?V\b\.?", re.IGNORECASE)
_SUFFIX_THAT_CONTINUES = re.compile(r"(?:\bS\.?\s?A\.?|\bS\.\s?de\s+R\.?\s?L\.?)$", re.IGNORECASE)


def _with_suffix_end(text: str, start: int, value: str) -> str:
    """ "Autopartes Monterrey SA" tagged of "…SA de CV": the suffix goes on to its end."""
    rest = _SUFFIX_CONTINUES.match(text[start + len(value) :]) if _SUFFIX_THAT_CONTINUES.search(value) else None
    if not rest:
        return value
    grown = value + rest.group(0)
    return grown[:-1] if grown.endswith(".") and not grown.upper().endswith("C.V.") else grown


def company_without_person(company: str, people: Iterable[str | None]) -> str:
    """A company tagged with the person before it ("Ana Ruiz de Banco Andino"): the company only."""
    for person in people:
        if not person:
            continue
        match = re.match(rf"\s*{re.escape(person)}\s*,?\s+(?:de|del|de la)\s+(?=\S)", company, re.IGNORECASE)
        if match:
            return company[match.end() :]
    # No person known: a company word right after "de"/"del", none before it, starts the company.
    words = company.split()
    keywords = _company_keywords()
    for index, word in enumerate(words):
        if phrase_key(word.strip(_EDGE_PUNCTUATION)) in keywords:
            joined = words[index - 1].lower() in ("de", "del") or words[index - 2 : index] == ["de", "la"]
            if index >= 2 and joined and words[0][:1].isupper():
                return " ".join(words[index:])
            break
    return company


def is_a_sentence(text: str) -> bool:
    """An answer in lower case of more than four words with no company word: a remark, not a name."""
    words = text.split()
    if len(words) <= 4 or text != text.lower():
        return False
    # Company names open with their company word ("distribuidora de …"); a suffix may come anywhere.
    return phrase_key(words[0]) not in _company_keywords() and not any(_LEGAL_SUFFIX_ONLY.match(w) for w in words)


@lru_cache(maxsize=1)
def _company_keywords() -> frozenset[str]:
    """The words that open a company's name, from the model's own lookup (data/nlu/lookups.yml)."""
    import yaml  # only here: validators are imported by processes that never read the lookups

    path = Path(__file__).resolve().parents[2] / "data" / "nlu" / "lookups.yml"
    for entry in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
        if entry.get("lookup") == "company_keyword":
            return frozenset(
                phrase_key(line.strip()[2:]) for line in entry["examples"].splitlines() if line.strip().startswith("- ")
            )
    return frozenset()


def person_without_company(name: str) -> str | None:
    """A person's name cut where a company's name starts ("Florencia Benítez del Estudio Contable…").

    None when nothing of a person is left ("Cafetalera Tarrazú S.A", "Estudio
    Contable Pereyra" tagged as a person).
    """
    words = name.split()
    keywords = _company_keywords()
    for index, word in enumerate(words):
        bare = word.strip(_EDGE_PUNCTUATION)
        if phrase_key(bare) in keywords or _LEGAL_SUFFIX_ONLY.match(bare):
            # The company starts at its first capitalised word after "de"/"del".
            while index and words[index - 1][:1].isupper() and words[index - 1].lower() not in _NAME_PARTICLES:
                index -= 1
            while index and words[index - 1].lower() in _NAME_PARTICLES:
                index -= 1
            return " ".join(words[:index]) or None
    return name


# Words after a name that describe the person, not name them ("…, encargado de TI").
_ROLE_TAIL = re.compile(
    r"\s*,?\s*(?:(?:soy|el|la|y soy)\s+)?(?:encargad|jef|gerente|ingenier|analista|coordinador|responsable|"
    r"tecnic|técnic|soporte|administrador|supervisor|director|asistente|del area|del área|de sistemas|de ti\b)"
    r".*$",
    re.IGNORECASE,
)


def person_name_from_answer(text: str | None) -> str | None:
    """A name answered with a role or a remark after it ("Ignacio Larraín, encargado de TI")."""
    if not text:
        return None
    return clean_person_name(_ROLE_TAIL.sub("", text)) or clean_person_name(text)


# --- company ------------------------------------------------------------------

_COMPANY_PREFIXES = (
    "de la empresa",
    "la empresa",
    "empresa",
    "de la compania",
    "la compania",
    "somos de",
    "somos",
    "trabajo en",
    "trabajo para",
    "trabajamos en",
    "llamo de",
    "le llamo de",
    "escribo de",
    "les escribo de",
    "de parte de",
    "es",
    "soy de",
    "el cliente es",
    "cliente",
)
_COMPANY_GUARDS = {
    "empresa": {"de", "del"},
    "cliente": {"de", "del"},
}
_COMPANY_EXTRA_CHARS = set(" &.,-'’()")
_ABBREVIATION_END = re.compile(r"(?:^|\s)(?:\w\.)+\w$")


_LEGAL_SUFFIX_THEN_MORE = re.compile(
    r"^(.+?\b(?:S\.?\s?A\.?\s?S\.?|S\.?\s?A\.?\s?C\.?|S\.?\s?A\.?(?:\s+de\s+C\.?\s?V\.?)?|SA\s+de\s+CV|Ltda\.?|"
    r"S\.?\s?R\.?\s?L\.?|C\.?\s?A\.?|SpA|E\.?I\.?R\.?L\.?|S\.\s?de\s+R\.?\s?L\.?(?:\s+de\s+C\.?\s?V\.?)?))"
    r"\s*[,;]\s+\S.*$",
    re.IGNORECASE,
)


def clean_company(text: str | None) -> str | None:
    """The customer's company name, case kept as typed ("BancoAndino S.A.")."""
    if not text or len(text) > 300 or has_html(text):
        return None
    company = _strip_prefixes(text, _COMPANY_PREFIXES, not_before=_COMPANY_GUARDS)
    company = _WHITESPACE.sub(" ", company).strip()
    # A legal suffix ends the name: "Transportes Andinos SAS, en Medellín".
    ended = _LEGAL_SUFFIX_THEN_MORE.match(company)
    if ended:
        company = ended.group(1)
    # The prefix stripper drops a trailing dot; abbreviations like "S.A." need it back.
    if text.rstrip().endswith(".") and _ABBREVIATION_END.search(company):
        company += "."
    if not 2 <= len(company) <= 100 or _letters(company) < 1:
        return None
    for ch in company:
        if not (ch.isalnum() or ch in _COMPANY_EXTRA_CHARS or unicodedata.combining(ch)):
            return None
    return company


# --- symptom ------------------------------------------------------------------


def clean_symptom(text: str | None) -> str | None:
    """The customer's own description of the problem, kept as typed."""
    if not text:
        return None
    symptom = _strip_control(text).strip()
    if not 3 <= len(symptom) <= 1000 or has_html(symptom) or _letters(symptom) < 2:
        return None
    return symptom


# Words that greet or introduce the customer, not the problem.
_INTRODUCTION_WORDS = re.compile(
    r"\b(?:hola|holi|buen[oa]s?|dias|tardes|noches|saludos|que tal|epa|alo|oigan|che|estimad[oa]s?|"
    r"les|le|te|escribe|escribo|habla|hablo|soy|somos|mi|nombre|es|me|llamo|de|del|la|el|desde|en|y|"
    r"aqui|con|por favor|porfa|gracias|senor|senora|senorita|ingeniero|ingeniera|lic|ing)\b"
)


def says_what_happens(text: str, names: Iterable[str] = ()) -> bool:
    """Whether a first message says anything beyond greeting and naming who writes."""
    rest = text
    for name in names:
        if name:
            rest = rest.replace(name, " ")
    rest = _INTRODUCTION_WORDS.sub(" ", normalize_text(rest))
    return bool(re.search(r"[a-z0-9]{2,}", rest))


# --- which field to correct ---------------------------------------------------

_CORRECTION_ALIASES: dict[str, tuple[str, ...]] = {
    "contact_email": (
        "correo",
        "correo electronico",
        "mail",
        "email",
        "e-mail",
        "direccion de correo",
    ),
    "contact_phone": (
        "telefono",
        "numero de telefono",
        "numero de contacto",
        "celular",
        "numero",
        "whatsapp",
        "movil",
        "fono",
    ),
    "contact_name": ("nombre", "mi nombre", "nombre del contacto", "nombre de contacto"),
    "company": (
        "empresa",
        "compania",
        "razon social",
        "nombre de la empresa",
        "nombre de la compania",
    ),
    "service_id": (
        "servicio",
        "id",
        "id del servicio",
        "codigo",
        "codigo del servicio",
        "codigo de servicio",
        "numero de servicio",
        "numero del servicio",
        "numero de circuito",
        "numero del circuito",
        "circuito",
    ),
    "symptom": ("problema", "falla", "descripcion", "sintoma", "averia", "incidencia"),
    "started": (
        "desde cuando",
        "cuando empezo",
        "cuando comenzo",
        "hora",
        "fecha",
        "hora de inicio",
        "inicio",
    ),
    "country": ("pais",),
}


@lru_cache(maxsize=1)
def _correction_index() -> tuple[re.Pattern[str], dict[str, str]]:
    owner = {phrase_key(alias): field for field, aliases in _CORRECTION_ALIASES.items() for alias in aliases}
    return compile_phrases(owner), owner


def correction_field(text: str | None) -> str | None:
    """Which form slot the customer wants to correct, from a phrase naming it."""
    if not text or len(text) > 1000:
        return None
    pattern, owner = _correction_index()
    found = find_longest_phrase(text, pattern)
    return owner.get(found) if found else None
