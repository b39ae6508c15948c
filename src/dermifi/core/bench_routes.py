"""A no-op endpoint for `make bench`: the framework's own cost, measured beside real routes.
Mounted only when DERMIFI_ENABLE_BENCH_ROUTES is set; never part of the API."""

from __future__ import annotations

from fastapi import APIRouter, Response

router = APIRouter(include_in_schema=False)


@router.get("/_bench/noop")
async def noop() -> Response:
    return Response(b"{}", media_type="application/json")
