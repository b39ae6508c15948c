"""Outbox handlers for the tests, loaded by worker processes through
``DERMIFI_OUTBOX_HANDLER_MODULES=tests.outbox.plugin``: deliver to the URL in ``target``."""

from __future__ import annotations

import ssl

import httpx

from dermifi.outbox.handlers import Delivery, Undeliverable, register

TOPIC = "test.webhook"
# Building a TLS context costs ~30 ms; one per delivery would make 500 deliveries slow.
_TLS = ssl.create_default_context()


async def deliver(delivery: Delivery) -> None:
    assert delivery.target is not None
    async with httpx.AsyncClient(timeout=10, verify=_TLS) as client:
        response = await client.post(
            delivery.target, headers={"Idempotency-Key": delivery.idempotency_key},
            json={"messageId": delivery.message_id, "practiceId": delivery.practice_id,
                  "payload": delivery.payload, "attempt": delivery.attempt})
    if 400 <= response.status_code < 500:
        raise Undeliverable(f"the receiver refused the message ({response.status_code})")
    response.raise_for_status()


register(TOPIC, deliver)
