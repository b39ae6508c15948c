"""Server-side time of the patient list and search queries: EXPLAIN ANALYZE of exactly what
the service sends.

Each shape runs once through ``patients.service.list_patients`` on a session scoped to the
practice, as a request would; every SELECT it sent is captured (SQL and parameters) and then
explained ``RUNS`` times (TIMING OFF: per-node clocks would inflate the totals) inside a
transaction set up as the service sets it up. Client-side latency mixes in HTTP, JSON and
queueing; these figures are the database's share alone.
"""

from __future__ import annotations

import json
import statistics
from typing import Any

from sqlalchemy import event, select

import dermifi.models  # noqa: F401  (every table: the audit row's foreign keys resolve)
from dermifi.auth.actor import Actor
from dermifi.core.config import sqlalchemy_url
from dermifi.core.db import (
    UNBOUNDED_STATEMENTS,
    create_engine,
    create_sessionmaker,
    scope_to_practice,
)
from dermifi.core.pagination import PageRequest
from dermifi.patients import service
from dermifi.users.models import User

RUNS = 7
# (label, list_patients arguments): the bench's scenarios and the shapes around them.
SHAPES: list[tuple[str, dict[str, Any]]] = [
    ("list, by last name", {}),
    ("list, inactive, newest first", {"status": "inactive", "sort_by": "createdAt",
                                      "order": "desc"}),
    ("list, page 1000", {"page": 1000}),
    ("search rivera", {"search": "rivera"}),
    ("search john", {"search": "john"}),
    ("search 415200 (phone)", {"search": "415200"}),
    ("search john smith", {"search": "john smith"}),
    ("search rivera, active, by first name", {"search": "rivera", "status": "active",
                                              "sort_by": "firstName"}),
    ("search son (7% match)", {"search": "son"}),
    ("search jo (2 letters)", {"search": "jo"}),
]


def _nodes(plan: dict[str, Any]) -> list[str]:
    """The plan's scans and sorts, outermost first: enough to see which path was taken."""
    found = []
    kind = plan["Node Type"]
    if "Scan" in kind or kind in ("Sort", "Aggregate", "Limit"):
        index = plan.get("Index Name")
        found.append(f"{kind} ({index})" if index else kind)
    for child in plan.get("Plans", []):
        found += _nodes(child)
    return found


async def explain_queries(database_url: str, practice_id: str) -> list[dict[str, Any]]:
    engine = create_engine(sqlalchemy_url(database_url), timeouts=UNBOUNDED_STATEMENTS)
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            captured.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    results: list[dict[str, Any]] = []
    try:
        sessions = create_sessionmaker(engine)
        async with sessions() as session:
            user = await session.scalar(select(User).where(User.practice_id == practice_id))
        if user is None:
            raise RuntimeError("the practice has no user to list patients as")
        actor = Actor.of(user, session_id="bench-explain")
        for label, arguments in SHAPES:
            arguments = {"search": None, "status": None, "sort_by": "lastName",
                         "order": "asc", **arguments}
            page = PageRequest(page=arguments.pop("page", 1), limit=20)
            captured.clear()
            async with sessions() as session:
                scope_to_practice(session, practice_id)
                _, pagination = await service.list_patients(session, actor, page=page,
                                                            **arguments)
            queries = list(captured)
            statements = []
            async with engine.connect() as conn:
                raw = (await conn.get_raw_connection()).driver_connection
                assert raw is not None
                for sql, parameters in queries:
                    executions, plannings, plan = [], [], {}
                    for _ in range(RUNS):
                        async with raw.transaction():
                            # As the service plans a search: for its actual words.
                            await raw.execute("SET LOCAL plan_cache_mode = force_custom_plan")
                            out = await raw.fetchval(
                                "EXPLAIN (ANALYZE, TIMING OFF, BUFFERS, FORMAT JSON) " + sql,
                                *parameters)
                        report = json.loads(out)[0] if isinstance(out, str) else out[0]
                        executions.append(report["Execution Time"])
                        plannings.append(report["Planning Time"])
                        plan = report["Plan"]
                    statements.append({
                        "sql": " ".join(sql.split()),
                        "execution_ms": statistics.median(executions),
                        "planning_ms": statistics.median(plannings),
                        "plan": " > ".join(_nodes(plan)),
                    })
            results.append({"shape": label, "total": pagination.total,
                             "server_ms": sum(s["execution_ms"] + s["planning_ms"]
                                              for s in statements),
                             "statements": statements})
    finally:
        await engine.dispose()
    return results


def explain_table(results: list[dict[str, Any]]) -> str:
    lines = [f"{'shape':<38} {'total':>9} {'server ms':>9}  per query: exec + plan ms, plan"]
    for result in results:
        lines.append(f"{result['shape']:<38} {result['total']:>9,} "
                     f"{result['server_ms']:>9.2f}")
        for statement in result["statements"]:
            lines.append(f"{'':>60}{statement['execution_ms']:>8.2f} + "
                         f"{statement['planning_ms']:.2f}  {statement['plan']}")
    return "\n".join(lines)
