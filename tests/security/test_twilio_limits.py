"""Rate limits of the Twilio webhook: per sender number (TwiML notice) and per IP (429, before the signature)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from noc.rasa_plugins.channels.twilio import TwilioInput
from tests.channels.conftest import (
    SMS_FROM,
    WEBHOOK_PATH,
    WHATSAPP_FROM,
    FakeAgent,
    TwilioClient,
    start_channel,
    stop_channel,
)
from tests.channels.conftest import twilio_settings as signed_settings
from tests.security.conftest import NOTICE


@pytest.fixture
async def twilio(database: str, notice_domain: Path) -> AsyncIterator[TwilioClient]:
    settings = signed_settings(redis_url=None, rate_limit_sender_per_minute=3, rate_limit_ip_per_minute=8)
    agent = FakeAgent()
    server, base_url = await start_channel(TwilioInput(settings, domain_path=notice_domain), agent)
    try:
        yield TwilioClient(base_url=base_url, agent=agent)
    finally:
        await stop_channel(server)


async def test_a_number_over_its_limit_gets_one_notice_then_silence(twilio: TwilioClient) -> None:
    for n in range(3):
        reply = await twilio.say(f"mensaje {n}")
        assert reply.status == 200 and reply.messages == [f"eco: mensaje {n}"]

    notice = await twilio.say("otro")
    silent = await twilio.say("y otro")

    # 200, so Twilio delivers the notice; one per burst (every message costs the NOC).
    assert (notice.status, notice.messages) == (200, [NOTICE])
    assert (silent.status, silent.messages) == (200, [])
    assert twilio.agent.texts == ["mensaje 0", "mensaje 1", "mensaje 2"]
    # The same number over SMS is another conversation with its own budget.
    assert (await twilio.say("hola", from_=SMS_FROM)).messages == ["eco: hola"]


async def test_the_ip_limit_counts_forged_requests_too(twilio: TwilioClient) -> None:
    forged = [await twilio.post(twilio.params("hola"), signature="forged") for _ in range(5)]
    assert {reply.status for reply in forged} == {403}
    signed = [await twilio.say("hola", from_=f"whatsapp:+5730000000{n}") for n in range(3)]
    assert [reply.status for reply in signed] == [200, 200, 200]

    refused = await twilio.say("hola", from_=WHATSAPP_FROM)
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{twilio.base_url}{WEBHOOK_PATH}", data=twilio.params("hola")) as again,
    ):
        retry_after = int(again.headers["Retry-After"])

    assert refused.status == 429 and refused.messages == [NOTICE]
    assert again.status == 429 and 1 <= retry_after <= 2 * 60
    assert len(twilio.agent.received) == 3
