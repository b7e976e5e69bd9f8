"""noc.logmask: phone numbers and e-mail addresses never reach a log line."""

from __future__ import annotations

import logging
import logging.config
import subprocess
import sys

import pytest
import yaml

from noc.logmask import LOGGING_CONFIG, PersonalDataFilter, mask_personal_data


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("+573001234567", "+57300*****67"),
        ("whatsapp:+573001234567", "whatsapp:+57300*****67"),
        ("sms:+51987654321", "sms:+51987****21"),
        ("+57 300 123 4567", "+57300*****67"),
        ("+1 (555) 010-0100", "+15550****00"),
        ("llame al 300 123 4567 hoy", "llame al 300*****67 hoy"),
        ("3001234567", "300*****67"),
        ("n=987654321,", "n=987****21,"),
        ("ana.ruiz@bancoandino.com.co", "a***@bancoandino.com.co"),
        ("Correo: Ana_Ruiz+noc@example.com.", "Correo: A***@example.com."),
        ("ana.ruiz@bancoandino.com.co / +573001234567", "a***@bancoandino.com.co / +57300*****67"),
        # Query strings in access logs are percent-encoded.
        ("GET /api/incidents?sender_id=sms%3A%2B573001234567", "GET /api/incidents?sender_id=sms%3A%2B57300*****67"),
        ("?email=ana.ruiz%40bancoandino.com.co&x=1", "?email=a***%40bancoandino.com.co&x=1"),
        ("abc+573001234567", "abc+57300*****67"),
    ],
)
def test_personal_data_is_masked(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked
    assert mask_personal_data(masked) == masked  # idempotent: several handlers may filter one record


@pytest.mark.parametrize(
    "text",
    [
        "INC-2026-000001",
        "CHG-2026-000042",
        "CO-MPLS-00123",
        "2026-11-25 15:02:01,123",
        "127.0.0.1:5432",
        "SM3f2a1234567890abcdef",
        "uuid 123e4567-e89b-12d3-a456-426614174000",
        "took 1732540000.123 s",
        "pid 1234567",
        "severidad 1, 15 minutos",
    ],
)
def test_other_numbers_are_left_alone(text: str) -> None:
    assert mask_personal_data(text) == text


def record(msg: str, *args: object, exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord("test", logging.INFO, __file__, 1, msg, args, exc_info)


def test_filter_masks_the_message_with_its_arguments() -> None:
    entry = record("message from %s: %r", "whatsapp:+573001234567", {"email": "ana.ruiz@bancoandino.com.co"})
    assert PersonalDataFilter().filter(entry) is True
    assert entry.getMessage() == "message from whatsapp:+57300*****67: {'email': 'a***@bancoandino.com.co'}"


def test_filter_masks_tracebacks() -> None:
    try:
        raise ValueError("duplicate contact_phone +573001234567")
    except ValueError as exc:
        entry = record("insert failed", exc_info=(type(exc), exc, exc.__traceback__))
    PersonalDataFilter().filter(entry)
    handler_output = logging.Formatter().format(entry)
    assert "+57300*****67" in handler_output and "3001234567" not in handler_output


def test_filter_leaves_a_broken_record_to_logging() -> None:
    entry = record("two %s %s", "only one")
    assert PersonalDataFilter().filter(entry) is True
    assert entry.msg == "two %s %s"


def test_logging_yml_masks_every_handler() -> None:
    """The project's logging.yml puts the filter on each of its handlers, and lines come out masked.

    Run in a child process: dictConfig closes every handler of the process it
    configures, pytest's own included.
    """
    config = yaml.safe_load(LOGGING_CONFIG.read_text(encoding="utf-8"))
    assert config["handlers"] and all("personal_data" in h.get("filters", []) for h in config["handlers"].values())

    script = (
        "import logging\n"
        "from noc.logmask import configure_logging\n"
        "configure_logging()\n"
        "logging.getLogger('rasa.core.processor')"
        ".warning(\"Received user message '%s'\", 'mi correo es ana@x.com.co')\n"
        "logging.getLogger('actions.intake_form').error('phone +51987654321 refused')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=LOGGING_CONFIG.parent, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    output = done.stderr
    assert "a***@x.com.co" in output and "+51987****21" in output, output
    assert "ana@" not in output and "987654321" not in output
