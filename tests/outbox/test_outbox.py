"""The outbox on both backends: written with the change, delivered after commit by the worker,
retried with backoff, failed after its attempts, listed for the practice's admins, retried."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from dermifi.auth.permissions import Role
from dermifi.core.clock import FrozenClock
from dermifi.core.context import bind_clock
from dermifi.core.db import scope_to_practice, unit_of_work
from dermifi.core.state import AppState
from dermifi.outbox import handlers
from dermifi.outbox import service as outbox_service
from dermifi.outbox.handlers import Delivery
from dermifi.outbox.models import OutboxMessage
from dermifi.outbox.worker import OutboxWorker, WorkerSettings
from dermifi.patients.models import Patient
from dermifi.practices.models import Practice
from tests.auth.test_login import assert_error
from tests.conftest import ClientFactory
from tests.factories.practices import make_practice
from tests.outbox import plugin
from tests.outbox.receiver import Receiver, running_receiver

BASE = 10.0  # seconds: the first backoff


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        yield receiver


def _worker(state: AppState, clock: FrozenClock, **settings: Any) -> OutboxWorker:
    values: dict[str, Any] = {"backoff_base_seconds": BASE, "max_attempts": 3,
                              "poll_seconds": 30.0, **settings}
    return OutboxWorker(engine=state.engine, sessionmaker=state.sessionmaker, clock=clock,
                        settings=WorkerSettings(**values), rng=random.Random(7))


@pytest_asyncio.fixture
async def worker(state: AppState, clock: FrozenClock) -> AsyncIterator[OutboxWorker]:
    handlers.register(plugin.TOPIC, plugin.deliver)
    worker = _worker(state, clock)
    yield worker
    await worker.stop()


async def _enqueue(state: AppState, clock: FrozenClock, practice: Practice, *,
                   target: str, topic: str = plugin.TOPIC, fail: bool = False,
                   **payload: Any) -> str:
    bind_clock(clock)
    async with state.sessionmaker() as session:
        scope_to_practice(session, practice.id)
        async with unit_of_work(session):
            message = await outbox_service.enqueue(
                session, topic=topic, target=target, payload=payload or {"patientId": "pat_1"})
            if fail:
                raise RuntimeError("the change failed after writing its message")
    return message.id


async def _message(state: AppState, message_id: str) -> OutboxMessage | None:
    async with state.sessionmaker() as session:
        return await session.get(OutboxMessage, message_id)


async def _count(state: AppState) -> int:
    async with state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


async def test_a_committed_message_is_delivered_once_with_its_key(
        state: AppState, clock: FrozenClock, practice: Practice, worker: OutboxWorker,
        receiver: Receiver) -> None:
    message_id = await _enqueue(state, clock, practice, target=receiver.url, rxId="rx_1")
    assert receiver.count() == 0  # nothing leaves while the change is being made
    assert await worker.run_once() == 1
    message = await _message(state, message_id)
    assert message is not None
    assert (message.status, message.attempts, message.delivered_at) == (
        "delivered", 1, clock.now())
    assert message.locked_until is None
    assert message.claim_token is None
    key, body = receiver.deliveries[0]
    assert key == message.idempotency_key == message_id
    assert body == {"messageId": message_id, "practiceId": practice.id,
                    "payload": {"rxId": "rx_1"}, "attempt": 1}
    assert await worker.run_once() == 0  # delivered is done
    assert receiver.count() == 1


async def test_a_rolled_back_change_sends_nothing(
        state: AppState, clock: FrozenClock, practice: Practice, worker: OutboxWorker,
        receiver: Receiver) -> None:
    with pytest.raises(RuntimeError):
        await _enqueue(state, clock, practice, target=receiver.url, fail=True)
    assert await _count(state) == 0
    assert await worker.run_once() == 0
    assert receiver.count() == 0


async def test_failures_back_off_exponentially_then_fail_and_an_admin_retries(
        state: AppState, clock: FrozenClock, practice: Practice, worker: OutboxWorker,
        receiver: Receiver, client_for: ClientFactory) -> None:
    receiver.status = 503
    message_id = await _enqueue(state, clock, practice, target=receiver.url)
    delays = []
    for attempt in (1, 2):
        assert await worker.run_once() == 1
        message = await _message(state, message_id)
        assert message is not None
        assert (message.status, message.attempts) == ("pending", attempt)
        assert message.last_error is not None
        assert "503" in message.last_error
        delay = (message.next_attempt_at - clock.now()).total_seconds()
        # Doubling from the base, jittered down to no less than half.
        ceiling = BASE * 2 ** (attempt - 1)
        assert ceiling / 2 <= delay <= ceiling
        delays.append(delay)
        assert await worker.run_once() == 0  # not before it is due
        clock.advance(seconds=delay)
    assert delays[1] > delays[0]
    assert await worker.run_once() == 1  # the third and last attempt
    failed = await _message(state, message_id)
    assert failed is not None
    assert (failed.status, failed.attempts, failed.failed_at) == ("failed", 3, clock.now())
    clock.advance(hours=2)
    assert await worker.run_once() == 0  # a failed message waits for a person
    assert receiver.count() == 3

    admin = await client_for(Role.ADMIN)
    listed = await admin.get("/v1/outbox", params={"status": "failed"})
    assert listed.status_code == 200, listed.text
    (row,) = listed.json()["data"]
    assert (row["id"], row["status"], row["attempts"], row["topic"]) == (
        message_id, "failed", 3, plugin.TOPIC)
    assert row["nextAttemptAt"] is None
    assert "503" in row["lastError"]
    assert row["payload"] == {"patientId": "pat_1"}
    assert (await admin.get("/v1/outbox", params={"status": "pending"})).json()["data"] == []

    receiver.status = 200
    retried = await admin.post(f"/v1/outbox/{message_id}/retry")
    assert retried.status_code == 200, retried.text
    assert (retried.json()["status"], retried.json()["attempts"]) == ("pending", 0)
    assert await worker.run_once() == 1
    delivered = await _message(state, message_id)
    assert delivered is not None
    assert delivered.status == "delivered"
    assert set(receiver.keys()) == {message_id}  # every attempt carried the same key
    assert receiver.effects[message_id] == 1
    again = await admin.post(f"/v1/outbox/{message_id}/retry")
    error = assert_error(again, 409, "INVALID_STATE")
    assert error["message"] == "Only a failed message can be retried; this one is delivered"


async def test_a_refusal_fails_at_once(
        state: AppState, clock: FrozenClock, practice: Practice, worker: OutboxWorker,
        receiver: Receiver) -> None:
    receiver.status = 422
    message_id = await _enqueue(state, clock, practice, target=receiver.url)
    assert await worker.run_once() == 1
    message = await _message(state, message_id)
    assert message is not None
    assert (message.status, message.attempts) == ("failed", 1)
    assert message.last_error == "Undeliverable: the receiver refused the message (422)"


async def test_a_topic_without_a_handler_is_retried_not_lost(
        state: AppState, clock: FrozenClock, practice: Practice, worker: OutboxWorker) -> None:
    message_id = await _enqueue(state, clock, practice, target=None, topic="nobody.listens")
    assert await worker.run_once() == 1
    message = await _message(state, message_id)
    assert message is not None
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.last_error == ("LookupError: no handler for topic 'nobody.listens' in "
                                  "this worker")


async def test_the_handler_sees_only_the_message_practice(
        state: AppState, clock: FrozenClock, practice: Practice, worker: OutboxWorker) -> None:
    other = await make_practice(state, name="Elsewhere Dermatology")
    seen: list[int] = []

    async def count_patients(delivery: Delivery) -> None:
        async with delivery.session() as session:
            seen.append(int(await session.scalar(
                select(func.count()).select_from(Patient)) or 0))

    handlers.register("test.count", count_patients)
    try:
        from tests.factories.patients import make_patient
        from tests.factories.users import make_user

        admin = await make_user(state, practice_id=other.id, role=Role.ADMIN)
        from dermifi.auth.actor import Actor

        await make_patient(state, Actor.of(admin.user, session_id="test"))
        await _enqueue(state, clock, practice, target=None, topic="test.count")
        await _enqueue(state, clock, other, target=None, topic="test.count")
        assert await worker.run_once() == 2
    finally:
        handlers.unregister("test.count")
    assert sorted(seen) == [0, 1]


async def test_the_outbox_is_for_the_practice_admins_only(
        state: AppState, clock: FrozenClock, practice: Practice, worker: OutboxWorker,
        receiver: Receiver, client_for: ClientFactory) -> None:
    receiver.status = 422
    message_id = await _enqueue(state, clock, practice, target=receiver.url)
    await worker.run_once()
    for role in (Role.PROVIDER, Role.NURSE, Role.FRONT_DESK, Role.PHARMACY):
        client = await client_for(role)
        assert_error(await client.get("/v1/outbox"), 403, "FORBIDDEN")
        assert_error(await client.post(f"/v1/outbox/{message_id}/retry"), 403, "FORBIDDEN")
    other = await make_practice(state, name="Elsewhere Dermatology")
    stranger = await client_for(Role.ADMIN, practice_id=other.id)
    assert (await stranger.get("/v1/outbox")).json()["data"] == []
    assert_error(await stranger.post(f"/v1/outbox/{message_id}/retry"), 404, "NOT_FOUND")
    message = await _message(state, message_id)
    assert message is not None
    assert message.status == "failed"


async def test_a_commit_wakes_the_local_worker_before_its_poll(
        state: AppState, clock: FrozenClock, practice: Practice, worker: OutboxWorker,
        receiver: Receiver) -> None:
    """The worker polls every 30 s; the commit's wake-up brings the delivery at once."""
    worker.start()
    await asyncio.sleep(0.2)  # its first round has run and found nothing
    await _enqueue(state, clock, practice, target=receiver.url)
    assert await asyncio.to_thread(receiver.received.wait, 10)


def test_payloads_carry_ids_not_documents() -> None:
    with pytest.raises(ValueError, match="ids, codes and counts only"):
        outbox_service._check_payload({"note": "x" * 500})
    with pytest.raises(ValueError, match="ids, codes and counts only"):
        outbox_service._check_payload({"patient": {"name": "Jane"}})
    assert outbox_service._check_payload({"rxIds": ["rx_1", "rx_2"], "count": 2}) == {
        "rxIds": ["rx_1", "rx_2"], "count": 2}


def test_the_handler_timeout_must_be_shorter_than_the_lease() -> None:
    with pytest.raises(ValueError, match="shorter than the lease"):
        WorkerSettings(lease_seconds=10, handler_timeout_seconds=10)


def test_backoff_is_capped() -> None:
    from dermifi.outbox.worker import backoff

    settings = WorkerSettings(backoff_base_seconds=5, backoff_max_seconds=60)
    rng = random.Random(1)
    assert all(timedelta(seconds=30) <= backoff(n, settings, rng) <= timedelta(seconds=60)
               for n in (5, 10, 1000))
