"""The ``dermifi`` command line: serve, migrate, practices, users, pharmacies, demo data."""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy import func, select

from dermifi import demo
from dermifi.auth.actor import Actor
from dermifi.auth.permissions import Role
from dermifi.core.clock import SystemClock
from dermifi.core.config import Settings
from dermifi.core.errors import DomainError
from dermifi.core.security import totp_code
from dermifi.core.state import AppState
from dermifi.pharmacies import service as pharmacies_service
from dermifi.pharmacies.schemas import PharmacyCreate, PharmacyRead
from dermifi.practices import service as practice_service
from dermifi.users import service as user_service
from dermifi.users.models import User
from dermifi.users.schemas import UserCreated

app = typer.Typer(help="Dermifi API server.", no_args_is_help=True, add_completion=False)
practice_app = typer.Typer(help="Practices (clinics) served by this deployment.",
                           no_args_is_help=True)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
app.add_typer(practice_app, name="practice")
app.add_typer(user_app, name="user")
pharmacy_app = typer.Typer(help="The pharmacy directory every practice shares.",
                           no_args_is_help=True)
app.add_typer(pharmacy_app, name="pharmacy")

T = TypeVar("T")
DEFAULT_PRACTICE_NAME = "Default Practice"


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        # Only the messages: pydantic's own text repeats the input, secret key included.
        problems = "; ".join(
            (f"DERMIFI_{'.'.join(map(str, e['loc'])).upper()}: " if e["loc"] else "")
            + e["msg"].removeprefix("Value error, ")
            for e in exc.errors(include_input=False, include_url=False))
        typer.echo(f"error: {problems}", err=True)
        raise typer.Exit(2) from None
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _run(work: Callable[[AppState], Awaitable[T]]) -> T:
    """Run one async job against the configured database, reporting domain errors plainly."""
    from dermifi.main import build_state

    async def main() -> T:
        state = build_state(_settings(), SystemClock())
        try:
            return await work(state)
        finally:
            await state.engine.dispose()

    try:
        return asyncio.run(main())
    except DomainError as exc:
        problems = "; ".join(f"{d.field}: {d.message}" for d in exc.details)
        typer.echo(f"error: {exc.message}" + (f" ({problems})" if problems else ""), err=True)
        raise typer.Exit(1) from exc


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes")] = 1,
) -> None:
    """Serve the API."""
    import uvicorn

    settings = _settings()
    from dermifi.core.logging import configure_logging

    configure_logging(settings.log_level, json=settings.log_json)
    from dermifi.core.http_server import GuardedHttpToolsProtocol

    uvicorn.run(
        "dermifi.main:create_app", factory=True, host=host, port=port, workers=workers,
        log_config=None, access_log=False, server_header=False,
        # X-Forwarded-For is honoured by our own middleware, from trusted proxies only.
        proxy_headers=False,
        # Head and body timeouts, head size and connection caps (core/http_server.py).
        http=GuardedHttpToolsProtocol, timeout_keep_alive=settings.keep_alive_seconds,
    )


@app.command()
def worker() -> None:
    """Deliver outbox messages until stopped (SIGTERM or Ctrl-C). Run one or more beside
    servers started with DERMIFI_OUTBOX_WORKER=false, on any hosts sharing the database."""
    import signal

    from dermifi.core.logging import configure_logging
    from dermifi.outbox.worker import build_worker

    settings = _settings()
    configure_logging(settings.log_level, json=settings.log_json)

    async def work(state: AppState) -> None:
        outbox_worker = build_worker(state)
        loop = asyncio.get_running_loop()
        stopped = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopped.set)
        outbox_worker.start()
        typer.echo(f"outbox worker {outbox_worker.name} running", err=True)
        await stopped.wait()
        await outbox_worker.stop(grace_seconds=settings.outbox_handler_timeout_seconds)

    _run(work)


@app.command()
def migrate(revision: Annotated[str, typer.Option(help="Target revision")] = "head") -> None:
    """Bring the database schema up to date."""
    from dermifi.migrate import upgrade

    upgrade(_settings(), revision)
    typer.echo(f"database migrated to {revision}")


@practice_app.command("create")
def practice_create(
    name: Annotated[str, typer.Option(help="The practice's name")],
    ip_allowlist: Annotated[str, typer.Option(help="CIDR ranges, comma separated")] = "",
) -> None:
    """Create a practice and print it as JSON."""

    async def work(state: AppState) -> dict[str, Any]:
        async with state.sessionmaker() as session:
            practice = await practice_service.create_practice(
                session, name=name, ip_allowlist=[c for c in ip_allowlist.split(",") if c])
            return {"id": practice.id, "name": practice.name,
                    "ipAllowlist": practice.ip_allowlist,
                    "createdAt": practice.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")}

    _print_json(_run(work))


@practice_app.command("list")
def practice_list() -> None:
    """List practices as JSON."""

    async def work(state: AppState) -> list[dict[str, Any]]:
        async with state.sessionmaker() as session:
            return [{"id": p.id, "name": p.name, "ipAllowlist": p.ip_allowlist}
                    for p in await practice_service.list_practices(session)]

    _print_json(_run(work))


@pharmacy_app.command("create")
def pharmacy_create(
    name: Annotated[str, typer.Option(help="The pharmacy's name")],
    ncpdp_id: Annotated[str, typer.Option("--ncpdp-id", help="NCPDP Provider ID, 7 digits")],
    npi: Annotated[str, typer.Option(help="The pharmacy's NPI, 10 digits")],
    street: Annotated[str, typer.Option(help="Street address")],
    city: Annotated[str, typer.Option(help="City")],
    state: Annotated[str, typer.Option(help="Two-letter state code")],
    zip_code: Annotated[str, typer.Option("--zip-code", help="ZIP code")],
    phone: Annotated[str, typer.Option(help="Phone number")],
    fax: Annotated[str, typer.Option(help="Fax number")],
) -> None:
    """Add a pharmacy to the directory as the deployment operator (no practice may change
    it) and print it as JSON."""
    try:
        data = PharmacyCreate.model_validate({
            "name": name, "ncpdpId": ncpdp_id, "npi": npi, "phone": phone, "fax": fax,
            "address": {"street": street, "city": city, "state": state, "zipCode": zip_code}})
    except ValidationError as exc:
        raise typer.BadParameter("; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())) from exc

    async def work(state_: AppState) -> dict[str, Any]:
        async with state_.sessionmaker() as session:
            pharmacy = await pharmacies_service.add_by_operator(session, data=data)
            return PharmacyRead.model_validate(pharmacy).model_dump(mode="json", by_alias=True)

    try:
        _print_json(_run(work))
    except DomainError as exc:
        details = "; ".join(f"{d.field}: {d.message}" for d in exc.details)
        typer.echo(f"{exc.message}{' (' + details + ')' if details else ''}", err=True)
        raise typer.Exit(1) from exc


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="Login email")],
    password: Annotated[str, typer.Option(help="At least 12 characters, not a common one")],
    role: Annotated[Role, typer.Option(help="admin, provider, nurse, front_desk or pharmacy")],
    mfa: Annotated[bool, typer.Option("--mfa", help="Enroll TOTP; prints the secret once")] = False,
    practice: Annotated[
        str | None, typer.Option(help="Practice id (default: the only one)")] = None,
    first_name: Annotated[str | None, typer.Option()] = None,
    last_name: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create a user and print it as JSON (with totpSecret and otpauthUri when --mfa)."""

    async def work(state: AppState) -> dict[str, Any]:
        async with state.sessionmaker() as session:
            target = await practice_service.resolve_practice(session, practice)
            created = await user_service.create_user(
                session, state, None, practice_id=target.id, email=email, password=password,
                role=role, first_name=first_name, last_name=last_name, mfa=mfa)
            return UserCreated.of(created.user, totp_secret=created.totp_secret,
                                  otpauth_uri=created.otpauth_uri).model_dump(mode="json")

    _print_json(_run(work))


DEMO_USERS = [
    (Role.ADMIN, "Ada", "Admin"),
    (Role.PROVIDER, "Emily", "Johnson"),
    (Role.NURSE, "Nora", "Nurse"),
    (Role.FRONT_DESK, "Frank", "Desk"),
    (Role.PHARMACY, "Phil", "Pharmacy"),
]


@app.command("seed-demo")
def seed_demo(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing if users exist")] = False,
    domain: Annotated[
        str, typer.Option(help="Email domain of the demo users")] = "demo.dermifi.example.com",
) -> None:
    """Create a default practice (if none) and one demo user per role with MFA.

    Passwords and TOTP secrets are random and printed once, here.
    """

    async def work(state: AppState) -> tuple[list[dict[str, Any]], str] | None:
        async with state.sessionmaker() as session:
            users = int(await session.scalar(select(func.count()).select_from(User)) or 0)
            if users and if_empty:
                return None
            if await practice_service.count_practices(session) == 0:
                await practice_service.create_practice(session, name=DEFAULT_PRACTICE_NAME)
            target = await practice_service.resolve_practice(session, None)
            created = []
            users_by_role: dict[Role, User] = {}
            for role, first, last in DEMO_USERS:
                password = secrets.token_urlsafe(15)
                new = await user_service.create_user(
                    session, state, None, practice_id=target.id,
                    email=f"{role.value.replace('_', '-')}@{domain}",
                    password=password, role=role, first_name=first, last_name=last, mfa=True)
                users_by_role[role] = new.user
                created.append({"role": role.value, "email": new.user.email,
                                "password": password, "totpSecret": new.totp_secret})
            _, first, last = next(u for u in DEMO_USERS if u[0] == Role.PROVIDER)
            try:
                clinic = await demo.set_up_clinic(
                    session, Actor.of(users_by_role[Role.ADMIN], session_id="seed-demo"),
                    provider_user_id=users_by_role[Role.PROVIDER].id, first_name=first,
                    last_name=last)
            except DomainError as exc:
                # The users exist now: their one-time credentials must still be printed.
                clinic = f"not set up ({exc.message})"
            pharmacies = await demo.add_pharmacies(session)
            if pharmacies:
                clinic += "; pharmacies in the directory: " + ", ".join(pharmacies)
            return created, clinic

    seeded = _run(work)
    if seeded is None:
        typer.echo("Users already exist; no demo users created.")
        return
    created, clinic = seeded
    typer.echo("Demo users (shown once; keep them somewhere safe):\n")
    for user in created:
        typer.echo(f"  {user['role']:<11} {user['email']}")
        typer.echo(f"  {'':<11} password:    {user['password']}")
        typer.echo(f"  {'':<11} TOTP secret: {user['totpSecret']}\n")
    typer.echo(f"Demo clinic: {clinic}.\n")
    admin = created[0]
    typer.echo("Log in (the code changes every 30 seconds):\n")
    typer.echo(
        "  curl -s http://127.0.0.1:8000/v1/auth/login -H 'Content-Type: application/json' \\\n"
        f"    -d '{{\"email\": \"{admin['email']}\", \"password\": \"{admin['password']}\", "
        f"\"mfaCode\": \"'$(.venv/bin/dermifi mfa-code {admin['totpSecret']})'\"}}'\n")


@app.command("mfa-code")
def mfa_code(secret: Annotated[str, typer.Argument(help="A base32 TOTP secret")]) -> None:
    """Print the current TOTP code for a secret (what an authenticator app would show)."""
    try:
        typer.echo(totp_code(secret, SystemClock().now()))
    except Exception as exc:
        typer.echo("error: not a base32 TOTP secret", err=True)
        raise typer.Exit(2) from exc


def main() -> None:  # pragma: no cover - the console script calls ``app``
    app(sys.argv[1:])
