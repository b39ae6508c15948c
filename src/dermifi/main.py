"""The app factory: settings, state, routers, middleware, error handlers, docs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dermifi import __version__
from dermifi.audit.router import router as audit_router
from dermifi.auth.router import router as auth_router
from dermifi.charts.router import router as charts_router
from dermifi.core.clock import Clock, SystemClock
from dermifi.core.config import DEFAULT_SECRET_KEY, Settings
from dermifi.core.db import (
    DatabaseTimeouts,
    create_engine,
    create_sessionmaker,
    single_statement_engine,
)
from dermifi.core.docs import install_docs
from dermifi.core.errors import install_error_handlers
from dermifi.core.logging import configure_logging
from dermifi.core.middleware import (
    BodySizeLimitMiddleware,
    ControlCharacterMiddleware,
    HeadAsGetMiddleware,
    RequestContextMiddleware,
)
from dermifi.core.network import ClientAddressMiddleware, IpAllowlistMiddleware
from dermifi.core.outages import install_outage_handlers
from dermifi.core.ratelimit import RateLimiter, RateLimitMiddleware
from dermifi.core.security import Passwords, SecretBox, Tokens
from dermifi.core.shared_store import RedisCircuit, client_options
from dermifi.core.state import AppState
from dermifi.core.storage import storage_from_settings
from dermifi.core.workers import CpuPool
from dermifi.health.router import router as health_router
from dermifi.locations.router import router as locations_router
from dermifi.notes import codes as icd10_codes
from dermifi.notes.router import router as notes_router
from dermifi.outbox.router import router as outbox_router
from dermifi.outbox.worker import build_worker
from dermifi.patients.router import router as patients_router
from dermifi.pharmacies.router import router as pharmacies_router
from dermifi.photos.router import router as photos_router
from dermifi.providers.router import router as providers_router
from dermifi.scheduling.router import router as scheduling_router
from dermifi.scheduling.router import schedule_router
from dermifi.users.router import router as users_router

logger = logging.getLogger("dermifi.startup")

MAX_JSON_BODY = 1024 * 1024
MAX_UPLOAD_BODY = 26 * 1024 * 1024  # a 25 MB photo plus its form fields
PROBE_PATHS = ("/healthz", "/readyz")

DESCRIPTION = """\
Dermatology practice management: patient charts, lesion photos, clinical notes, scheduling,
prescriptions and orders.

Authenticate with `POST /v1/auth/login`, then send `Authorization: Bearer <accessToken>`.
Every error answers with the envelope `{"error": {code, message, details, requestId, timestamp}}`.
"""


class SecurityHeadersMiddleware:
    """Responses carry PHI: never cached, never sniffed, never leaked through a referrer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(b"x-content-type-options", b"nosniff"),
                            (b"referrer-policy", b"no-referrer"),
                            (b"x-frame-options", b"DENY")]
                if scope["path"].startswith("/v1/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def build_state(settings: Settings, clock: Clock) -> AppState:
    engine = create_engine(settings.async_database_url, pool_size=settings.db_pool_size,
                           timeouts=DatabaseTimeouts(
                               connect=settings.db_connect_timeout_seconds,
                               pool=settings.db_pool_timeout_seconds,
                               statement=settings.db_statement_timeout_seconds))
    redis = None
    circuit = RedisCircuit(timeout=settings.redis_timeout_seconds)
    if settings.redis_url:
        from redis.asyncio import Redis

        redis = Redis.from_url(settings.redis_url,
                               **client_options(settings.redis_timeout_seconds))
    tokens = Tokens(secret_key=settings.secret_key, issuer=settings.jwt_issuer,
                    audience=settings.jwt_audience)
    return AppState(
        settings=settings,
        clock=clock,
        engine=engine,
        single_statements=single_statement_engine(engine),
        sessionmaker=create_sessionmaker(engine),
        passwords=Passwords(time_cost=settings.argon2_time_cost,
                            memory_kib=settings.argon2_memory_kib,
                            parallelism=settings.argon2_parallelism),
        tokens=tokens,
        secret_box=SecretBox(settings.secret_key),
        rate_limiter=RateLimiter(default=settings.rate_limit, login=settings.login_rate_limit,
                                 redis_url=settings.redis_url,
                                 redis_pool=redis.connection_pool if redis else None,
                                 circuit=circuit),
        redis=redis,
        redis_circuit=circuit,
        blob_store=storage_from_settings(settings),
        image_pool=CpuPool(size=settings.image_decode_concurrency,
                           wait_seconds=settings.image_decode_wait_seconds, name="image"),
    )


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    clock = clock or SystemClock()
    configure_logging(settings.log_level, json=settings.log_json)
    if settings.env == "development" and settings.secret_key == DEFAULT_SECRET_KEY:
        logger.warning(
            "DERMIFI_SECRET_KEY is the public development placeholder: anyone can forge tokens "
            "for this server. Set a random value before it holds real data.")
    state = build_state(settings, clock)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Load the ICD-10-CM code set off the event loop now rather than in the first
        # request that writes a note.
        warming = asyncio.create_task(asyncio.to_thread(icd10_codes.warm))
        # Delivers what requests put in the outbox; `dermifi worker` does it when turned off.
        worker = build_worker(state) if settings.outbox_worker else None
        if worker is not None:
            worker.start()
        yield
        if worker is not None:
            await worker.stop()
        await warming
        await state.engine.dispose()
        state.image_pool.shutdown()
        if state.redis is not None:
            await state.redis.aclose()

    app = FastAPI(
        title="Dermifi API", version=__version__, description=DESCRIPTION,
        openapi_url="/v1/openapi.json", docs_url=None, redoc_url=None, lifespan=lifespan,
    )
    app.state.dermifi = state
    install_error_handlers(app)
    install_outage_handlers(app)

    api = APIRouter(prefix="/v1")
    api.include_router(auth_router)
    api.include_router(users_router)
    api.include_router(audit_router)
    api.include_router(outbox_router)
    api.include_router(patients_router)
    api.include_router(charts_router)
    api.include_router(notes_router)
    api.include_router(photos_router)
    api.include_router(providers_router)
    api.include_router(locations_router)
    api.include_router(pharmacies_router)
    api.include_router(scheduling_router)
    api.include_router(schedule_router)
    app.include_router(api)
    app.include_router(health_router)
    if settings.enable_bench_routes:  # refused in production by the settings
        from dermifi.bench_routes_auth import router as bench_auth_router
        from dermifi.core.bench_routes import router as bench_router

        app.include_router(bench_router)
        app.include_router(bench_auth_router)
    install_docs(app)

    # Added innermost first: a request passes RequestContext, SecurityHeaders, HeadAsGet,
    # ClientAddress, RateLimit, IpAllowlist, ControlCharacter, BodySizeLimit, then the routes.
    # Security headers sit outside everything that can answer, so every answer has them.
    app.add_middleware(BodySizeLimitMiddleware, max_json_bytes=MAX_JSON_BODY,
                       max_upload_bytes=MAX_UPLOAD_BODY)
    app.add_middleware(ControlCharacterMiddleware)
    app.add_middleware(IpAllowlistMiddleware, allowlist=settings.allowlist_networks,
                       open_paths=PROBE_PATHS)
    app.add_middleware(RateLimitMiddleware, limiter=state.rate_limiter, tokens=state.tokens,
                       clock=clock, uncounted_paths=PROBE_PATHS)
    app.add_middleware(ClientAddressMiddleware, trusted=settings.trusted_proxy_networks)
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestContextMiddleware, clock=clock)
    return app
