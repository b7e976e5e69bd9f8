"""Reading a customer's free-text answer to a yes/no question, and the triage facts in any message.

Pure functions, no Rasa: what the form does with a reading lives in
`actions.form_reading`. The trained model still classifies every message; these
readers decide what the words *say about the question just asked*, which the
intent alone cannot: "sí, con energía" is a yes to "¿tiene energía?", while the
model hears "energía" and leans to `power_problem`; "no hay problemas de
energía" is a yes although it starts with "no"; "no sé qué decirle" is no answer
at all although the model calls it `deny`.

A reading is True, False or None. None means the answer did not say, and the
form must ask again: a record holds only what the customer stated.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from noc.domain.validators import normalize_text

# Slots whose question is a yes/no one; each has a reader below.
YES_NO_SLOTS = (
    "channel_phone_ok",
    "power_ok",
    "rebooted",
    "problem_persists",
    "confirmed",
    "level_exhausted",
    "restores_service",
    "change_confirmed",
)

# The triage facts a customer may volunteer in any message.
TRIAGE_SLOTS = ("power_ok", "rebooted", "problem_persists")

# The model's affirm/deny is trusted alone only when it is this sure and the
# words themselves said nothing either way.
MODEL_CONFIDENCE = 0.85


# --- text preparation -----------------------------------------------------------

_REPEATS = re.compile(r"(\w)\1{2,}")
_PUNCTUATION = re.compile(r"[^\w\s,.;:!?¿¡/]")
_CLAUSE_BREAK = re.compile(r"(?<=\?)\s*|\s*(?:[,.;:!¿¡]+|\bpero\b|\bsolo que\b|\bsino\b)\s*")

# Words the readers look for, so that a typo ("reinicie" as "reinisie",
# "ensendido") still finds its word. Only words of 5+ letters are corrected:
# short ones are too close to each other ("sigo"/"sino").
_VOCABULARY = [
    "encendido",
    "encendida",
    "prendido",
    "prendida",
    "apagado",
    "apagada",
    "energia",
    "electricidad",
    "reinicie",
    "reiniciamos",
    "reiniciado",
    "reiniciada",
    "reinicio",
    "reiniciar",
    "reiniciaron",
    "reinicie",
    "reseteamos",
    "resetee",
    "reseteado",
    "funciona",
    "funcionando",
    "continua",
    "continuan",
    "persiste",
    "igualito",
    "servicio",
    "problema",
    "problemas",
    "conectado",
    "desconectado",
    "todavia",
    "siguen",
    "arreglo",
    "soluciono",
    "normalizo",
    "correcto",
    "correctos",
    "perfecto",
    "contactamos",
    "contacte",
    "llamamos",
    "llamado",
    "respuesta",
    "respondieron",
    "contestaron",
    "contestan",
    "atendieron",
]


@lru_cache(maxsize=4096)
def _corrected(word: str) -> str:
    if len(word) < 5 or word in _VOCABULARY:
        return word
    close = difflib.get_close_matches(word, _VOCABULARY, n=1, cutoff=0.84)
    # The same stem with another ending is an inflection, not a typo ("funcionar").
    if not close or word[:6] == close[0][:6]:
        return word
    return close[0]


def prepare(text: str) -> str:
    """Lower-case, no accents, no stretched letters ("siii"), typos of key words fixed."""
    flat = _REPEATS.sub(r"\1", normalize_text(text or ""))
    flat = _PUNCTUATION.sub(" ", flat)
    words = re.findall(r"\w+|[,.;:!?¿¡/]", flat)
    return " ".join(_corrected(w) for w in words)


def clauses(text: str) -> list[str]:
    """The message cut where a new statement starts ("sí, ... pero sigue igual")."""
    return [c for c in _CLAUSE_BREAK.split(prepare(text)) if c.strip()]


# --- hedges and bare answers -------------------------------------------------------

_HEDGE = re.compile(
    r"\b(?:no se(?=\s*(?:$|[,.;:!?]|(?:que|si|como|cual|cuando|donde|bien|exactamente|realmente|la verdad|decir\w*|"
    r"muy|nada|ni|todavia|aun|por)\b))|no sabria|no sabemos|ni idea|no estoy segur|no estamos segur|creo que|creeria|"
    r"tal vez|talvez|quizas?|capaz que|puede ser|a lo mejor|supongo|"
    r"de(?:ja|je)(?:me|nos)? (?:\w+ )?(?:ver|revis|pregunt|consult|verific|fij|le[eiy]|cheque|mir|busc)\w*|"
    r"voy a (?:ver|revisar|preguntar|verificar|consultar)|"
    r"un (?:moment|segund|minut|ratit)\w*|espere|esperame|espera|esperen|parece que|pareciera|"
    r"aguanta|aguantame|aguarda|aguardame|ya va\b|"
    r"(?:ya|ahorita|ahora|enseguida) (?:vuelvo|regreso|te escribo|le escribo)|un toque\b|dame chance|deme chance|"
    r"no (?:\w+ ){0,2}(?:entiend|entendi|comprend|capto|capte|cacho)\w*|"
    r"como asi|que cosa|a ver\b|(?:me )?(?:repite|repita|repetis|repetir|repiteme|repitame)\b|"
    r"mas o menos|no me acuerdo|no recuerdo|no lo se|no pude (?:ver|revisar|verificar)|"
    r"no tengo (?:acceso|como)|hay que ver|no estoy en|ahorita (?:le|te) (?:digo|confirmo)|"
    r"ya (?:le|te) (?:digo|confirmo)|"
    r"(?:le|te) confirmo|(?:esta|estan|estoy|estamos) (?:prendiendo|arrancando|reiniciando|cargando|iniciando))"
)
_FILLER = re.compile(
    r"^(?:m+|mm+h*|m+h+m+|aja+|ajam|e+h*|a+h*|ah+|eh+|hm+|uh+|jaja\w*|jeje\w*|ok|okey|oka|vale|bueno|pues|este|o sea|"
    r"perdon|disculp[ae]n?)$"
)

_YES_WORDS = (
    "si",
    "sip",
    "sep",
    "sii",
    "claro",
    "correcto",
    "afirmativo",
    "exacto",
    "efectivamente",
    "obvio",
    "obviamente",
    "simon",
    "dale",
    "de una",
    "asi es",
    "por supuesto",
    "ya",
    "sisas",
    "yes",
    "positivo",
    "seguro",
    "totalmente",
    "listo",
    "eso",
)
_NO_WORDS = (
    "no",
    "nop",
    "nope",
    "nel",
    "negativo",
    "para nada",
    "nada que ver",
    "todavia no",
    "aun no",
    "tampoco",
    "ni modo",
    "nones",
    "jamas",
    "nunca",
    "ninguno",
    "ninguna",
)
_BARE_YES = re.compile(r"^(?:" + "|".join(re.escape(w) for w in sorted(_YES_WORDS, key=len, reverse=True)) + r")\b")
_BARE_NO = re.compile(r"^(?:" + "|".join(re.escape(w) for w in sorted(_NO_WORDS, key=len, reverse=True)) + r")\b")


_LEADING_FILLER = re.compile(r"^(?:(?:ok|okey|oka|vale|bueno|pues|mira|mire|oye|oiga|a ver|este|eh|ah|ehh)\s+)+")


def _hedged(clause: str) -> bool:
    """A clause of doubt, of waiting, or of filler only ("creo que sí", "déjeme ver", "mmm")."""
    words = re.findall(r"\w+", clause)
    return not words or all(_FILLER.match(w) for w in words) or bool(_HEDGE.search(clause))


def is_hedge(text: str) -> bool:
    """The customer does not know, is checking, or did not understand: every clause is doubt or filler."""
    return all(_hedged(clause) for clause in clauses(text) or [""])


def bare_answer(text: str) -> bool | None:
    """A plain yes or no at the start of the message ("sí", "nop", "claro que sí", "todavía no")."""
    parts = clauses(text)
    if not parts or _hedged(parts[0]):
        return None
    first = _LEADING_FILLER.sub("", parts[0])
    if _BARE_NO.match(first):
        return False
    if _BARE_YES.match(first):
        return True
    return None


# --- statements about a concept ---------------------------------------------------------


@dataclass(frozen=True)
class Cue:
    """A phrase stating something about a concept, and what it states when not negated."""

    pattern: re.Pattern[str]
    says: bool


# Cues that are negative constructions themselves are not negated again ("no nos dieron ninguna solución").
_NEGATIVE_WORDS = ("no ", "sin ", "ni ", "ninguna ", "ningun ", "cero ", "nadie ", "nunca ")
# A clause that asks something states nothing ("¿cómo se reinicia eso?").
_QUESTION = re.compile(
    r"^(?:como|que|donde|cuando|cual|quien|por que|para que|debo|tengo que|hay que)\b"
)


def _is_question(clause: str) -> bool:
    return bool(_QUESTION.match(clause)) or clause.endswith("?")


def asks_back(text: str) -> bool:
    """The whole message is a question back ("¿qué es eso?", "cual nombre?"), not an answer."""
    parts = clauses(text)
    return bool(parts) and all(_is_question(part.strip()) or _hedged(part) for part in parts)


# A negation in the same clause, at most three words before the cue ("no lo he reiniciado").
_NEGATION = re.compile(r"\b(?:no|ni|nunca|tampoco|jamas|sin|nadie|ninguna|ningun|nada)\b(?:\s+\w+){0,3}\s*$")


def _cues(pairs: Iterable[tuple[str, bool]]) -> tuple[Cue, ...]:
    return tuple(Cue(re.compile(rf"\b(?:{pattern})"), says) for pattern, says in pairs)


# Power: True = the equipment is on and the site has power.
_POWER = _cues(
    (
        # Explicit "no problem" statements first: they contain the negative words.
        (
            r"sin (?:ningun )?(?:problemas?|falla|fallas|inconvenientes?|cortes?) (?:de|con|en) (?:la )?(?:energia|"
            r"luz|electricidad|corriente)",
            True,
        ),
        (r"(?:energia|luz|electricidad|corriente) (?:esta |estan )?(?:bien|normal|ok|estable)", True),
        (
            r"(?:hay|tenemos|tiene|tienen|con|llega|cuenta con|contamos con) (?:la )?(?:energia|luz|electricidad|"
            r"corriente)",
            True,
        ),
        (r"(?:encendid\w*|prendid\w*|conectad\w*|enchufad\w*)", True),
        (r"(?:luces|leds?|lucecitas?) (?:\w+ )?(?:prendid|encendid|verde|parpade|titil)", True),
        (r"(?:esta|estan) (?:on|andando)", True),
        (
            r"(?:sin|se fue la|se corto la|cortaron la|corte de|corte de la|falla de|falla de la|caida de|"
            r"caida de la|bajon de) (?:energia|luz|electricidad|corriente)|apagon",
            False,
        ),
        (r"problemas? (?:de|con|en) (?:la )?(?:energia|luz|electricidad|corriente)", False),
        (r"(?:apagad\w*|desconectad\w*|desenchufad\w*|muerto)", False),
        (r"(?:enciende|prende|arranca)", True),
    )
)

# Rebooted: True = the customer restarted the equipment.
_REBOOT = _cues(
    (
        (r"(?:reinici\w*|resete\w*|rebote\w*|reboot\w*|restart\w*)", True),
        (
            r"(?:apague|apagamos|apagaron|desconecte|desconectamos|desenchufe|desenchufamos) (?:\w+ ){0,5}(?:prend|"
            r"encend|conect|enchuf)\w*",
            True,
        ),
        (r"(?:volvi|volvimos|volvieron) a (?:prender|encender|conectar|enchufar|iniciar)", True),
        (r"(?:ya lo hice|ya lo hicimos|ya se hizo|hecho)", True),
    )
)

# Persists: True = the problem continues (after the reboot).
_PERSISTS = _cues(
    (
        (r"(?:ya )?(?:funciona|funcionando|anda|andando|navega|navegando|sirve|camina|jala|conecta)\b(?! mal)", False),
        (
            r"(?:ya )?(?:volvio|regreso|retorno|se restablecio|se normalizo|se arreglo|se soluciono|se compuso|quedo|"
            r"quedo bien|se resolvio|levanto)",
            False,
        ),
        (r"(?:ya )?(?:hay|tenemos|tiene|tienen) (?:servicio|internet|conexion|señal|senal|red|linea)", False),
        (r"(?:todo|ya) (?:esta )?(?:bien|ok|normal|perfecto|resuelto|solucionado|arreglado)", False),
        (
            r"(?:sigue|siguen|seguimos|continua|continuan|continuamos|persiste|persisten|todavia|aun|igualito|"
            r"lo mismo|mismo problema)",
            True,
        ),
        (r"(?:esta|estamos|todo|sigue|seguimos|quedo|queda) (?:\w+ )?igual|igual que antes|igual de mal", True),
        (r"(?:y nada|nada de nada|nada cambio|no cambio nada|sin cambios|ningun cambio)", True),
        (r"(?:sin|cero) (?:servicio|internet|conexion|señal|senal|red|linea)", True),
        (r"(?:caido|caida|muerto|muerta)", True),
    )
)

# Persistence said in passing: only words about what happened after the reboot
# ("sigue igual", "ya volvió"), never the description of the fault itself
# ("está caído", "no hay internet"), which an opening says before any reboot.
_PERSISTS_STATED = _cues(
    (
        (
            r"(?:sigue|siguen|seguimos|continua|continuan|continuamos|persiste|persisten|igualito|lo mismo|"
            r"mismo problema|y nada|pero nada|nada de nada|nada cambio|no cambio nada|sin cambios|ningun cambio)",
            True,
        ),
        (r"(?:todavia|aun) (?:no|sin|nada)|^nada$", True),
        (r"(?:esta|estamos|todo|sigue|seguimos|quedo|queda) (?:\w+ )?igual|igual que antes|igual de mal", True),
        (
            r"(?:ya|ahora|ahorita) (?:si )?(?:funciona|anda|navega|sirve|conecta|volvio|regreso|hay servicio|"
            r"hay internet|tenemos internet|tenemos servicio|esta bien|quedo)|"
            r"se (?:arreglo|soluciono|restablecio|normalizo|compuso|resolvio)|"
            r"(?:volvio|regreso) (?:el |la )?(?:servicio|internet|conexion|señal|senal|red)",
            False,
        ),
    )
)

# Confirmation of a summary or of a request to file.
_CONFIRM = _cues(
    (
        (r"(?:esta|estan|todo) (?:\w+ )?(?:bien|correcto|correctos|perfecto|ok)", True),
        (
            r"(?:adelante|proceda|procede|registrela|registrelo|registrala|registralo|hagale|dale|confirmo|"
            r"de acuerdo|perfecto)",
            True,
        ),
        (
            r"(?:esta|estan) mal|(?:hay|tiene) (?:un )?(?:error|dato malo)|equivoc\w*|corregir|cambiar|incorrect\w*|"
            r"erroneo",
            False,
        ),
        (r"(?:cancel\w*|mejor no|no lo registre|no la registre|todavia no)", False),
    )
)

# Level exhausted: True = the customer contacted that level and got no answer.
_LEVEL = _cues(
    (
        (
            r"(?:no|nadie|ni) (?:nos |me )?(?:contest\w*|respond\w*|atiend\w*|atendi\w*|dan respuesta|dio respuesta|"
            r"resolv\w*|solucion\w*)",
            True,
        ),
        (r"(?:sin|ninguna|cero) (?:respuesta|solucion|atencion)", True),
        (r"(?:no|nunca|ni) (?:\w+ ){0,2}(?:obtuv\w*|recibi\w*|tuvimos|tuve) (?:\w+ )?(?:respuesta|solucion)", True),
        (
            r"(?:llame|llamamos|llamado|llamando|contacte|contactamos|contactado|escribi|escribimos|escrito|marque|"
            r"marcamos|hable|hablamos|intente|intentamos|comunique|comunicamos|insisti|insistimos)\b",
            True,
        ),
        (r"(?:abri|abrimos|pusimos|puse|reportamos|reporte) (?:un |el )?(?:caso|ticket|reporte|incidente)", True),
        (r"(?:me|nos) (?:atendieron|contestaron|respondieron|resolvieron|dieron respuesta)", False),
    )
)

# Restores service: True = the change is needed because a service is down.
_RESTORES = _cues(
    (
        (
            r"(?:caido|caida|sin servicio|no funciona|no anda|esta abajo|no tenemos (?:servicio|internet)|"
            r"restablecer|recuperar|urgente)",
            True,
        ),
        (
            r"(?:mejora|ampliacion|crecimiento|funciona bien|no esta caido|no es (?:por )?(?:una )?falla|"
            r"todo funciona|anda bien|es preventiv\w*|planificad\w*|programad\w*)",
            False,
        ),
    )
)

# Channel phone: True = contact the customer at the number they write from.
_CHANNEL_PHONE = _cues(
    (
        (r"(?:a |al |en |por )?(?:ese|este|el mismo|mismo) (?:numero|celular|telefono|whatsapp|cel)", True),
        (r"(?:otro|diferente|distinto) (?:numero|celular|telefono)|mejor (?:al|a este)|\d[\d ]{6,}", False),
    )
)

_CONCEPTS: dict[str, tuple[Cue, ...]] = {
    "power_ok": _POWER,
    "rebooted": _REBOOT,
    "problem_persists": _PERSISTS,
    "confirmed": _CONFIRM,
    "change_confirmed": _CONFIRM,
    "level_exhausted": _LEVEL,
    "restores_service": _RESTORES,
    "channel_phone_ok": _CHANNEL_PHONE,
}


def _clause_reading(clause: str, cues: tuple[Cue, ...]) -> bool | None:
    """What one clause states about a concept: its cues, negated or not; the last one wins.

    Longer phrases are taken before the shorter ones inside them, so "problema
    con la energía" is one (negative) statement, not "con la energía".
    """
    if _is_question(clause):
        return None
    matches = [(m.start(), m.end(), cue) for cue in cues for m in cue.pattern.finditer(clause) if m.end() > m.start()]
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, bool]] = []
    for start, end, cue in sorted(matches, key=lambda m: m[0] - m[1]):
        if any(s < end and start < e for s, e in taken):
            continue
        taken.append((start, end))
        phrase = clause[start:end]
        negated = bool(_NEGATION.search(clause[:start])) and not phrase.startswith(_NEGATIVE_WORDS)
        found.append((start, cue.says != negated))
    if not found:
        return None
    # The last statement in the clause is the customer's conclusion ("lo apagué y lo prendí").
    return sorted(found)[-1][1]


def concept_readings(slot: str, text: str, cues: tuple[Cue, ...] | None = None) -> list[bool]:
    """What each clause of the message states about the concept behind `slot`, in order."""
    cues = cues or _CONCEPTS[slot]
    readings = [_clause_reading(clause, cues) for clause in clauses(text)]
    return [reading for reading in readings if reading is not None]


def concept_reading(slot: str, text: str, cues: tuple[Cue, ...] | None = None) -> bool | None:
    """What the message states about the concept behind `slot`; the last clause that says something wins."""
    readings = concept_readings(slot, text, cues)
    return readings[-1] if readings else None


# --- the public readers ---------------------------------------------------------------


def read_yes_no(slot: str, text: str, *, intent: str | None = None, confidence: float = 0.0) -> bool | None:
    """The answer to the yes/no question for `slot`, or None when it did not say.

    Order: a button payload; then doubt ("no sé", "creo que sí") means no answer;
    then what the words state about the question ("no hay problemas de energía");
    then a bare "sí"/"no"; last, the model's affirm/deny when it is very sure.
    """
    stripped = (text or "").strip()
    if stripped.startswith("/"):
        return {"affirm": True, "deny": False}.get(intent or "")
    parts = clauses(stripped)
    sure = [clause for clause in parts if not _hedged(clause)]
    if not sure:
        return None
    readings = concept_readings(slot, " . ".join(sure))
    bare = bare_answer(stripped)
    # Clauses that disagree ("no, sí me atendieron, pero me dijeron que escriba aquí"): the plain yes/no decides.
    mixed = len(set(readings)) > 1
    stated = bare if mixed and bare is not None else (readings[-1] if readings else None)
    if slot == "rebooted" and stated is None and bare is False:
        return False
    if stated is not None:
        return stated
    if bare is not None:
        return bare
    doubtful = len(sure) < len(parts)
    if not doubtful and confidence >= MODEL_CONFIDENCE and intent in ("affirm", "deny") and len(stripped.split()) <= 6:
        return intent == "affirm"
    return None


def read_triage(text: str, *, asked: str | None = None, rebooted: bool | None = None) -> dict[str, bool]:
    """The triage facts a message states, besides the answer to the question asked.

    Only explicit statements count here, never a bare "sí". "Sigue igual" speaks
    of the problem after a reboot only when a reboot is known or stated in the
    same message: in an opening, "no funciona" describes the fault itself.
    """
    sure = " . ".join(clause for clause in clauses(text) if not _hedged(clause))
    if not sure:
        return {}
    facts: dict[str, bool] = {}
    for slot in TRIAGE_SLOTS:
        if slot == asked:
            continue
        value = concept_reading(slot, sure, _PERSISTS_STATED if slot == "problem_persists" else None)
        if value is not None:
            facts[slot] = value
    if "problem_persists" in facts and not (facts.get("rebooted") or rebooted):
        del facts["problem_persists"]
    return facts


def says_more_than_yes_no(text: str) -> bool:
    """Whether the message is more than a bare yes or no (then it may also ask for a person)."""
    words = re.findall(r"\w+", prepare(text))
    return len(words) > 3


# --- a power cut beyond the site ----------------------------------------------------------

# "se fue la luz en toda la zona", "apagón en el sector", "corte de la empresa eléctrica":
# no breaker or UPS at the site brings power back, so the customer is not asked to.
_AREA_CUT = re.compile(
    r"\b(?:(?:toda|en) (?:la|el|esta|este) (?:zona|sector|barrio|colonia|cuadra|ciudad|manzana|urbanizacion|comuna|"
    r"municipio|pueblo)|todo el (?:sector|barrio|edificio|centro comercial|parque industrial|pueblo)|"
    r"apagon|corte (?:general|programado|masivo)|racionamiento|(?:la )?(?:empresa|compania) (?:electrica|de luz)|"
    r"(?:los|las) vecin[oa]s (?:tampoco|estan igual|tambien))\b"
)


def outage_beyond_site(text: str) -> bool:
    """Whether the message puts the power cut outside the customer's site (a zone, the utility)."""
    return bool(_AREA_CUT.search(prepare(text)))
