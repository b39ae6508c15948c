"""A real HTTP receiver for outbox deliveries, on a loopback port: it records every delivery
and acts on each idempotency key once, as a pharmacy network or webhook consumer must."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    url: str = ""
    deliveries: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    effects: Counter[str] = field(default_factory=Counter)  # acted on, per key
    status: int = 200  # what it answers
    # When set, a delivery is recorded (and acted on) and then held until ``release``:
    # the receiver has acted, the sender has not heard so yet.
    hold: threading.Event | None = None
    received: threading.Event = field(default_factory=threading.Event)
    delay: float = 0.0  # seconds each answer takes, so that concurrent senders overlap
    lock: threading.Lock = field(default_factory=threading.Lock)

    def keys(self) -> Counter[str]:
        with self.lock:
            return Counter(key for key, _ in self.deliveries)

    def count(self) -> int:
        with self.lock:
            return len(self.deliveries)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            key = self.headers.get("Idempotency-Key", "")
            with receiver.lock:
                receiver.deliveries.append((key, body))
                status = receiver.status
                if 200 <= status < 300 and receiver.effects[key] == 0:
                    receiver.effects[key] += 1
                hold = receiver.hold
            receiver.received.set()
            if receiver.delay:
                time.sleep(receiver.delay)
            if hold is not None:
                hold.wait(30)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    # The default backlog of 5 drops connections from a worker's concurrent batch, and each
    # dropped one waits a second for its SYN to be resent.
    request_queue_size = 128
    daemon_threads = True


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    server = _Server(("127.0.0.1", 0), _handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/deliveries"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        if receiver.hold is not None:
            receiver.hold.set()
        server.shutdown()
        server.server_close()
