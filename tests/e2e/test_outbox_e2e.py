"""The outbox with real worker processes (``dermifi worker``) over TCP: a worker killed with
SIGKILL between claim and acknowledgement, two workers sharing one PostgreSQL queue, and a
PostgreSQL ``NOTIFY`` that wakes a worker in another process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from dermifi.core.clock import SystemClock
from dermifi.core.db import scope_to_practice, unit_of_work
from dermifi.main import build_state
from dermifi.outbox import service as outbox_service
from dermifi.outbox.models import DELIVERED, OutboxMessage
from tests.e2e.server import DermifiProcess
from tests.factories.practices import make_practice
from tests.outbox import plugin
from tests.outbox.receiver import Receiver, running_receiver
from tests.support import Backend, test_settings

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 4.0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
def worker_env(server_env: dict[str, str]) -> dict[str, str]:
    """``dermifi worker`` with the tests' webhook handler and a short lease, so that a killed
    worker's messages come back within seconds."""
    return {
        **server_env,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "DERMIFI_OUTBOX_HANDLER_MODULES": "tests.outbox.plugin",
        "DERMIFI_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        "DERMIFI_OUTBOX_HANDLER_TIMEOUT_SECONDS": "3",
        "DERMIFI_OUTBOX_POLL_SECONDS": "0.2",
        "DERMIFI_OUTBOX_BACKOFF_BASE_SECONDS": "0.5",
        "DERMIFI_LOG_JSON": "true",
    }


class WorkerProcess(DermifiProcess):
    def start(self, timeout: float = 60) -> WorkerProcess:
        self._spawn("worker")
        _wait_for(lambda: "outbox worker" in self.log() and "running" in self.log(),
                  timeout, lambda: f"the worker did not start:\n{self.log()[-4000:]}",
                  alive=self)
        return self

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def delivered(self) -> list[str]:
        """The ids of the messages this worker recorded as delivered, from its JSON log."""
        records = (json.loads(line) for line in self.log().splitlines()
                   if line.startswith("{"))
        return [record["message_id"] for record in records
                if record.get("event") == "outbox message delivered"]


@contextmanager
def workers(env: Mapping[str, str], tmp_path: Path, count: int = 1, name: str = "worker"
            ) -> Iterator[list[WorkerProcess]]:
    started = [WorkerProcess(env, tmp_path / f"{name}-{n}.log") for n in range(count)]
    try:
        for worker in started:
            worker.start()
        yield started
    finally:
        for worker in started:
            worker.stop()


def _wait_for(condition: Callable[[], bool], timeout: float, explain: Callable[[], str],
              alive: WorkerProcess | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if alive is not None and alive.process is not None and alive.process.poll() is not None:
            raise AssertionError(f"the worker exited:\n{alive.log()[-4000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(explain())
        time.sleep(0.05)


# --- the database, from the test's side ------------------------------------------------------

def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


async def _with_state(backend: Backend, data_dir: Path, work: Any) -> Any:
    state = build_state(test_settings(backend, data_dir), SystemClock())
    try:
        return await work(state)
    finally:
        await state.engine.dispose()


def enqueue(backend: Backend, data_dir: Path, target: str, count: int = 1) -> list[str]:
    """A new practice and ``count`` webhook messages for it, committed in one transaction."""
    async def work(state: Any) -> list[str]:
        practice = await make_practice(state)
        async with state.sessionmaker() as session:
            scope_to_practice(session, practice.id)
            async with unit_of_work(session):
                messages = [await outbox_service.enqueue(
                    session, topic=plugin.TOPIC, target=target, payload={"n": n})
                    for n in range(count)]
        return [message.id for message in messages]

    ids: list[str] = _run(_with_state(backend, data_dir, work))
    return ids


def messages(backend: Backend, data_dir: Path) -> dict[str, tuple[str, int]]:
    """Every message's status and attempts, by id."""
    async def work(state: Any) -> dict[str, tuple[str, int]]:
        async with state.sessionmaker() as session:
            rows = await session.execute(
                select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.attempts))
            return {row.id: (row.status, row.attempts) for row in rows}

    result: dict[str, tuple[str, int]] = _run(_with_state(backend, data_dir, work))
    return result


def listeners(backend: Backend, data_dir: Path) -> int:
    """PostgreSQL sessions that listen on the outbox channel (asyncpg's ``LISTEN``)."""
    async def work(state: Any) -> int:
        async with state.engine.connect() as conn:
            return int(await conn.scalar(text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query ILIKE 'LISTEN %dermifi_outbox%'"
            )) or 0)

    count: int = _run(_with_state(backend, data_dir, work))
    return count


def pending(backend: Backend, data_dir: Path) -> int:
    async def work(state: Any) -> int:
        async with state.sessionmaker() as session:
            return int(await session.scalar(
                select(func.count()).select_from(OutboxMessage)
                .where(OutboxMessage.status != DELIVERED)) or 0)

    count: int = _run(_with_state(backend, data_dir, work))
    return count


# --- the tests ---------------------------------------------------------------------------------

def test_a_worker_killed_between_claim_and_acknowledgement_leaves_the_message_to_another(
        e2e_backend: Backend, worker_env: dict[str, str], receiver: Receiver,
        tmp_path: Path) -> None:
    data_dir = tmp_path / "test-data"
    # The receiver acts on the first delivery and then holds its answer: the worker is killed
    # after the effect and before it could record the delivery.
    receiver.hold = threading.Event()
    with workers(worker_env, tmp_path, name="first") as (first,):
        (message_id,) = enqueue(e2e_backend, data_dir, receiver.url)
        assert receiver.received.wait(30), first.log()[-4000:]
        first.kill()
    assert messages(e2e_backend, data_dir)[message_id] == ("pending", 1)
    receiver.hold.set()
    receiver.hold = None

    with workers(worker_env, tmp_path, name="second") as (second,):
        _wait_for(lambda: messages(e2e_backend, data_dir)[message_id][0] == DELIVERED,
                  LEASE_SECONDS + 30, lambda: f"not redelivered:\n{second.log()[-4000:]}",
                  alive=second)
        assert second.delivered() == [message_id]
    assert first.delivered() == []  # killed before it could record anything

    assert messages(e2e_backend, data_dir)[message_id] == (DELIVERED, 2)
    assert receiver.keys() == {message_id: 2}  # delivered twice, with one key...
    assert receiver.effects == {message_id: 1}  # ...and acted on once


@pytest.mark.parametrize("e2e_backend", ["postgresql"], indirect=True)
def test_two_workers_on_postgresql_deliver_each_of_500_messages_exactly_once(
        e2e_backend: Backend, worker_env: dict[str, str], receiver: Receiver,
        tmp_path: Path) -> None:
    data_dir = tmp_path / "test-data"
    receiver.delay = 0.01  # each answer takes a moment, so the two workers' batches overlap
    env = {**worker_env, "DERMIFI_OUTBOX_BATCH_SIZE": "10"}
    with workers(env, tmp_path, count=2) as both:
        ids = enqueue(e2e_backend, data_dir, receiver.url, count=500)
        _wait_for(lambda: pending(e2e_backend, data_dir) == 0, 120,
                  lambda: f"{pending(e2e_backend, data_dir)} of 500 still undelivered")
        delivered = [worker.delivered() for worker in both]

    keys = receiver.keys()
    assert set(keys) == set(ids)
    assert set(keys.values()) == {1}  # each message went out exactly once
    assert sorted([*delivered[0], *delivered[1]]) == sorted(ids)  # each recorded by one
    assert delivered[0], "the first worker delivered nothing"  # both took a share
    assert delivered[1], "the second worker delivered nothing"
    assert {status for status, _ in messages(e2e_backend, data_dir).values()} == {DELIVERED}
    assert {attempts for _, attempts in messages(e2e_backend, data_dir).values()} == {1}


@pytest.mark.parametrize("e2e_backend", ["postgresql"], indirect=True)
def test_a_commit_in_another_process_wakes_a_postgresql_worker_at_once(
        e2e_backend: Backend, worker_env: dict[str, str], receiver: Receiver,
        tmp_path: Path) -> None:
    data_dir = tmp_path / "test-data"
    env = {**worker_env, "DERMIFI_OUTBOX_POLL_SECONDS": "120"}  # polling would take minutes
    enqueue(e2e_backend, data_dir, receiver.url)  # the worker's first round delivers it
    with workers(env, tmp_path) as (worker,):
        _wait_for(lambda: pending(e2e_backend, data_dir) == 0, 30,
                  lambda: f"the first round delivered nothing:\n{worker.log()[-4000:]}",
                  alive=worker)
        _wait_for(lambda: listeners(e2e_backend, data_dir) == 1, 30,
                  lambda: f"the worker is not listening:\n{worker.log()[-4000:]}",
                  alive=worker)
        # The worker now sleeps until its next poll, two minutes away, or a NOTIFY.
        (message_id,) = enqueue(e2e_backend, data_dir, receiver.url)
        _wait_for(lambda: receiver.keys()[message_id] > 0, 20,
                  lambda: f"no wake-up within 20 s:\n{worker.log()[-4000:]}", alive=worker)
    assert receiver.count() == 2
