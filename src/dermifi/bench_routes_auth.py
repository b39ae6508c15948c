"""An authenticated no-op endpoint for `make bench`: what authenticating a request costs
(bearer token decoded, its session checked, the practice scope set), beside the bare no-op in
core/bench_routes.py. Here, not in core: core may not import auth (the layer contracts in
pyproject.toml). Mounted only when DERMIFI_ENABLE_BENCH_ROUTES is set; never part of the API."""

from __future__ import annotations

from fastapi import APIRouter, Response

from dermifi.auth.dependencies import CurrentUser

router = APIRouter(include_in_schema=False)


@router.get("/_bench/noop-auth")
async def noop_auth(_: CurrentUser) -> Response:
    return Response(b"{}", media_type="application/json")
