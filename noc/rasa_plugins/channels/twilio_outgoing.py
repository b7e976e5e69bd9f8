"""Messages the NOC sends to SMS and WhatsApp customers outside a webhook answer (agents' replies).

The customer's own messages are answered in the webhook's TwiML response
(``noc.rasa_plugins.channels.twilio``); an agent writes later, so this goes through
Twilio's REST API (``Messages.json``) with the official client. The API base
is ``TWILIO_API_BASE_URL`` (tests point it at a local fake Twilio). Long texts
are split like the TwiML answers and sent as several messages, in order.
``send_text`` blocks on HTTP: call it in a thread from async code.
"""

from __future__ import annotations

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from noc.rasa_plugins.channels.twiml import SMS, WHATSAPP, WHATSAPP_PREFIX, Sender, split_text
from noc.settings import Settings

TIMEOUT_SECONDS = 10.0


class TwilioSendError(RuntimeError):
    """The message could not be sent. ``sent`` lists the SIDs of the parts that did go out."""

    def __init__(self, message: str, *, sent: list[str] | None = None) -> None:
        super().__init__(message)
        self.sent = list(sent or [])


def parse_sender_id(sender_id: str) -> Sender:
    """``sms:+573001234567`` / ``whatsapp:+573001234567`` (the channel's sender ids) to a Sender."""
    channel, _, number = (sender_id or "").partition(":")
    sender = Sender(channel=channel, number=number)
    if channel not in (SMS, WHATSAPP) or sender.e164 is None:
        raise TwilioSendError(f"el remitente {sender_id!r} no es una conversación de SMS o WhatsApp")
    return sender


def _addresses(settings: Settings, sender: Sender) -> tuple[str, str]:
    """(From, To) as Twilio wants them for the sender's channel."""
    if sender.channel == WHATSAPP:
        number = settings.twilio_whatsapp_number
        if not number:
            raise TwilioSendError("falta TWILIO_WHATSAPP_NUMBER: no se pueden enviar mensajes por WhatsApp")
        # Accept the number with or without the prefix, as copied from the Twilio console.
        number = number.removeprefix(WHATSAPP_PREFIX)
        return f"{WHATSAPP_PREFIX}{number}", f"{WHATSAPP_PREFIX}{sender.number}"
    if not settings.twilio_sms_number:
        raise TwilioSendError("falta TWILIO_SMS_NUMBER: no se pueden enviar mensajes SMS")
    return settings.twilio_sms_number, sender.number


def _client(settings: Settings) -> Client:
    if not settings.twilio_account_sid or not settings.twilio_auth_token:
        raise TwilioSendError("faltan TWILIO_ACCOUNT_SID o TWILIO_AUTH_TOKEN: no se puede usar la API de Twilio")
    client = Client(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        http_client=TwilioHttpClient(timeout=TIMEOUT_SECONDS),
    )
    # The client would rewrite the host from TWILIO_EDGE/TWILIO_REGION in the
    # environment; the API base comes from our settings alone.
    client.edge = None
    client.region = None
    client.api.base_url = settings.twilio_api_base_url
    return client


def send_text(settings: Settings, *, sender_id: str, text: str) -> list[str]:
    """Send ``text`` to the conversation ``sender_id``; returns the message SIDs, one per part.

    Raises TwilioSendError when the sender id is not an SMS/WhatsApp number,
    credentials or the channel's number are missing, the text is empty, or
    Twilio refuses a part or cannot be reached (``sent`` says which parts went out).
    """
    sender = parse_sender_id(sender_id)
    from_, to = _addresses(settings, sender)
    parts = split_text(text or "")
    if not parts:
        raise TwilioSendError("el mensaje está vacío")
    client = _client(settings)
    sent: list[str] = []
    for number, part in enumerate(parts, start=1):
        try:
            message = client.messages.create(to=to, from_=from_, body=part)
        except TwilioRestException as exc:
            raise TwilioSendError(
                f"Twilio rechazó la parte {number} de {len(parts)} para {to}: "
                f"HTTP {exc.status}, código {exc.code}: {exc.msg}",
                sent=sent,
            ) from exc
        except (requests.RequestException, TwilioException) as exc:
            raise TwilioSendError(
                f"no se pudo contactar a Twilio (parte {number} de {len(parts)} para {to}): {exc}", sent=sent
            ) from exc
        sent.append(message.sid)
    return sent
