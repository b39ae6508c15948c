"""Numbers from raw results: percentiles, the overhead over the baseline, the table, JSON."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.load import PhaseResult
from bench.scenarios import Scenario


def percentile(sorted_values: list[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), on pre-sorted data."""
    if not sorted_values:
        return math.nan
    rank = (len(sorted_values) - 1) * pct / 100
    low = math.floor(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def _share(part: float | None, whole: float) -> float | None:
    return part / whole if part is not None and whole > 0 else None


@dataclass
class Outcome:
    scenario: Scenario
    planned: int
    measured: PhaseResult
    warmup: PhaseResult
    server_cpu_s: float | None
    window_s: float  # the parent's view of the measured phase, for the server's CPU share
    machine_busy_cores: float | None  # every process's CPU over the window, in cores
    concurrency: int  # requests in flight

    @property
    def errors(self) -> int:
        return self.measured.errors + self.warmup.errors

    @property
    def rps(self) -> float:
        return _share(self.measured.requests, self.measured.elapsed_s) or 0.0

    @property
    def server_cpu_share(self) -> float | None:
        return _share(self.server_cpu_s, self.window_s)

    @property
    def client_cpu_share(self) -> float | None:
        return _share(self.measured.client_cpu_s, self.measured.elapsed_s)

    @property
    def other_cpu_share(self) -> float | None:
        """Cores used by processes that are neither the server nor the load generator
        (other work, the hypervisor's steal): when high, every number here is suspect."""
        if self.machine_busy_cores is None or self.server_cpu_s is None or not self.window_s:
            return None
        ours = (self.server_cpu_s + self.measured.client_cpu_s) / self.window_s
        return max(self.machine_busy_cores - ours, 0.0)

    @property
    def server_cpu_ms_per_request(self) -> float | None:
        if self.server_cpu_s is None or not self.measured.requests:
            return None
        return self.server_cpu_s * 1000 / self.measured.requests

    def latency(self) -> dict[str, float]:
        """Over 2xx answers only: an error's latency says nothing about the endpoint."""
        values = sorted(self.measured.latencies_ms)
        return {"p50": percentile(values, 50), "p95": percentile(values, 95),
                "p99": percentile(values, 99),
                "mean": sum(values) / len(values) if values else math.nan,
                "min": values[0] if values else math.nan,
                "max": values[-1] if values else math.nan}

    def overhead(self, baseline: Outcome) -> dict[str, Any]:
        """Extra cost over the baseline. Server CPU per request is the steadiest of these on
        a small machine, where client and server share the cores and latency is queueing."""
        mine, base = self.latency(), baseline.latency()
        cpu, base_cpu = self.server_cpu_ms_per_request, baseline.server_cpu_ms_per_request
        return {
            "baseline": baseline.scenario.name,
            "p50_ms": mine["p50"] - base["p50"],
            "p99_ms": mine["p99"] - base["p99"],
            "server_cpu_ms_per_request": (cpu - base_cpu
                                          if cpu is not None and base_cpu is not None else None),
            "throughput_ratio": self.rps / baseline.rps if baseline.rps else None,
        }

    def to_json(self, baseline: Outcome | None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.scenario.name,
            "method": self.scenario.method,
            "path": self.scenario.path,
            "description": self.scenario.description,
            "concurrency": self.concurrency,
            "requests_planned": self.planned,
            "requests": self.measured.requests,
            "errors": self.measured.errors,
            "outcomes": dict(self.measured.outcomes),
            "error_samples": self.measured.error_samples,
            "stopped_at_time_limit": self.measured.hit_time_limit,
            "elapsed_s": self.measured.elapsed_s,
            "requests_per_s": self.rps,
            "latency_ms": self.latency(),
            "server_cpu_ms_per_request": self.server_cpu_ms_per_request,
            "server_cpu_share": self.server_cpu_share,
            "client_cpu_share": self.client_cpu_share,
            "other_cpu_share": self.other_cpu_share,
            "warmup": {"requests": self.warmup.requests, "errors": self.warmup.errors,
                       "outcomes": dict(self.warmup.outcomes),
                       "error_samples": self.warmup.error_samples},
        }
        if baseline is not None and baseline is not self:
            data["overhead_vs_baseline"] = self.overhead(baseline)
        return data


# --- the table -----------------------------------------------------------------------------

COLUMNS = [
    ("endpoint", "<"), ("requests", ">"), ("errors", ">"), ("req/s", ">"),
    ("p50 ms", ">"), ("p95 ms", ">"), ("p99 ms", ">"), ("+p50 ms", ">"),
    ("srv CPU ms/req", ">"), ("+CPU ms", ">"), ("srv CPU", ">"), ("client CPU", ">"),
    ("other CPU", ">"),
]


def _num(value: float | None, spec: str) -> str:
    return "-" if value is None or math.isnan(value) else format(value, spec)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def table(outcomes: list[Outcome], baseline: Outcome | None) -> str:
    rows: list[list[str]] = []
    for o in outcomes:
        lat = o.latency()
        if baseline is None:
            plus_p50 = plus_cpu = "-"
        elif o is baseline:
            plus_p50 = plus_cpu = "baseline"
        else:
            over = o.overhead(baseline)
            plus_p50 = _num(over["p50_ms"], "+.2f")
            plus_cpu = _num(over["server_cpu_ms_per_request"], "+.3f")
        rows.append([
            f"{o.scenario.method} {o.scenario.path}",
            f"{o.measured.requests}{'*' if o.measured.hit_time_limit else ''}",
            str(o.measured.errors), _num(o.rps, ".0f"),
            _num(lat["p50"], ".2f"), _num(lat["p95"], ".2f"), _num(lat["p99"], ".2f"), plus_p50,
            _num(o.server_cpu_ms_per_request, ".3f"), plus_cpu,
            _pct(o.server_cpu_share), _pct(o.client_cpu_share), _pct(o.other_cpu_share),
        ])
    widths = [max(len(title), *(len(r[i]) for r in rows)) for i, (title, _) in enumerate(COLUMNS)]

    def line(cells: list[str]) -> str:
        return "  ".join(f"{cell:{align}{width}}" for cell, (_, align), width
                         in zip(cells, COLUMNS, widths, strict=True)).rstrip()

    return "\n".join([line([title for title, _ in COLUMNS]), line(["-" * w for w in widths]),
                      *(line(r) for r in rows)])


# --- JSON ----------------------------------------------------------------------------------

def _clean(value: Any) -> Any:
    """Strict JSON: NaN (no 2xx answer to take a percentile of) becomes null; floats rounded."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, 4)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_clean(document), indent=2, allow_nan=False) + "\n")
