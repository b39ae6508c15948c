"""From wrk runs to verdicts: medians over the rounds, ratios within a round, the bars, the
tables, the JSON."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.scenarios import (
    DATA_SCALING_MEASUREMENTS,
    MAX_DATA_SCALING_SPREAD,
    MAX_WORKER_PEAK_MIB,
    TARGETS,
    Measurement,
    Target,
)
from bench.wrk import WrkResult, describe_errors

# (measurement name, connections, server workers, patients loaded)
Key = tuple[str, int, int, int]
WARMUP_ROUND = 0


@dataclass
class Run:
    """One wrk run: one measurement, at one connection count, in one round (0: warm-up)."""

    measurement: Measurement
    connections: int
    workers: int
    patients: int
    round: int
    wrk: WrkResult
    server_cpu_s: float | None  # the measured server's processes, over the run
    window_s: float
    busy_cores: float | None  # every process on the machine, over the run

    @property
    def key(self) -> Key:
        return (self.measurement.name, self.connections, self.workers, self.patients)

    @property
    def problems(self) -> list[str]:
        return describe_errors(self.wrk, self.measurement.tolerated_statuses)

    @property
    def server_cpu_ms_per_request(self) -> float | None:
        if self.server_cpu_s is None or not self.wrk.requests:
            return None
        return self.server_cpu_s * 1000 / self.wrk.requests

    @property
    def other_cpu_cores(self) -> float | None:
        """Cores used by neither the server nor wrk (other work, the hypervisor's steal)."""
        if self.busy_cores is None or self.server_cpu_s is None or not self.window_s:
            return None
        ours = (self.server_cpu_s + self.wrk.cpu_seconds) / self.window_s
        return max(self.busy_cores - ours, 0.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "measurement": self.measurement.name, "connections": self.connections,
            "workers": self.workers, "patients": self.patients, "round": self.round,
            "requests": self.wrk.requests, "seconds": self.wrk.seconds,
            "requests_per_s": self.wrk.requests_per_s, "latency_ms": self.wrk.latency_ms,
            "non_2xx": self.wrk.non_2xx, "socket_errors": self.wrk.socket_errors,
            "statuses": self.wrk.statuses, "error_samples": self.wrk.samples,
            "wrk_cpu_share_per_thread": self.wrk.cpu_share_per_thread,
            "wrk_threads": self.wrk.threads,
            "server_cpu_ms_per_request": self.server_cpu_ms_per_request,
            "other_cpu_cores": self.other_cpu_cores, "problems": self.problems,
            "command": self.wrk.command,
        }


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.median(present) if present else None


@dataclass
class Summary:
    """The measured rounds of one key, as medians (each figure's median on its own)."""

    runs: list[Run]

    @property
    def measurement(self) -> Measurement:
        return self.runs[0].measurement

    @property
    def rps(self) -> float:
        return statistics.median(r.wrk.requests_per_s for r in self.runs)

    @property
    def rps_range(self) -> tuple[float, float]:
        values = [r.wrk.requests_per_s for r in self.runs]
        return min(values), max(values)

    def latency(self, percentile: str) -> float:
        return statistics.median(r.wrk.latency_ms[percentile] for r in self.runs)

    @property
    def wrk_cpu(self) -> float:
        return statistics.median(r.wrk.cpu_share_per_thread for r in self.runs)

    @property
    def server_cpu_ms(self) -> float | None:
        return _median(r.server_cpu_ms_per_request for r in self.runs)

    @property
    def other_cpu(self) -> float | None:
        return _median(r.other_cpu_cores for r in self.runs)

    @property
    def statuses(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for run in self.runs:
            for status, count in run.wrk.statuses.items():
                total[status] = total.get(status, 0) + count
        return total


@dataclass
class Results:
    runs: list[Run] = field(default_factory=list)
    # server workers -> each dermifi worker's peak resident MiB after its rounds
    peak_rss_mib: dict[int, list[float]] = field(default_factory=dict)
    # the baselines' worker peaks, for scale
    baseline_peak_rss_mib: dict[str, list[float]] = field(default_factory=dict)

    def measured(self) -> list[Run]:
        return [r for r in self.runs if r.round != WARMUP_ROUND]

    def measured_keys(self) -> list[Key]:
        seen: dict[Key, None] = {}
        for run in self.measured():
            seen.setdefault(run.key)
        return list(seen)

    def summary(self, key: Key) -> Summary | None:
        runs = [r for r in self.measured() if r.key == key]
        return Summary(runs) if runs else None

    def ratio(self, key: Key, baseline: Key) -> float | None:
        """The median over rounds of (this req/s / the baseline's req/s in the same round):
        drift on a shared machine moves both sides of each quotient alike."""
        mine = {r.round: r.wrk.requests_per_s for r in self.measured() if r.key == key}
        theirs = {r.round: r.wrk.requests_per_s for r in self.measured() if r.key == baseline}
        quotients = [mine[n] / theirs[n] for n in mine if theirs.get(n)]
        return statistics.median(quotients) if quotients else None

    def failed_runs(self) -> list[Run]:
        return [r for r in self.runs if r.problems]


# --- the bars ------------------------------------------------------------------------------

@dataclass
class Verdict:
    """One row of the targets table."""

    target: str
    workers: int | None = None
    connections: int | None = None
    rps: float | None = None
    p50: float | None = None
    p99: float | None = None
    ratio: float | None = None
    bar: str = "reported, no bar"
    wrk_cpu: float | None = None
    passed: bool | None = None  # None: nothing to judge
    note: str = ""

    @property
    def result(self) -> str:
        return {True: "PASS", False: "FAIL", None: "-"}[self.passed]

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "workers": self.workers,
                "connections": self.connections, "requests_per_s": self.rps,
                "p50_ms": self.p50, "p99_ms": self.p99, "ratio": self.ratio, "bar": self.bar,
                "wrk_cpu_share_per_thread": self.wrk_cpu, "result": self.result,
                "note": self.note}


def _target_verdict(results: Results, target: Target, summary: Summary, key: Key) -> Verdict:
    _, connections, workers, patients = key
    verdict = Verdict(f"{summary.measurement.shown}", workers, connections, summary.rps,
                      summary.latency("p50"), summary.latency("p99"), wrk_cpu=summary.wrk_cpu)
    bars, misses, notes = [], [], []
    if target.baseline is not None and target.min_ratio is not None:
        verdict.ratio = results.ratio(key, (target.baseline, connections, workers, patients))
        bars.append(f"req/s >= {target.min_ratio:.2f} x {target.baseline}")
        if verdict.ratio is None or verdict.ratio < target.min_ratio:
            misses.append("ratio")
    if target.latency_bound is not None:
        percentile, limit, _ = target.latency_bound
        value = summary.latency(percentile)
        bars.append(f"{percentile} < {limit:g} ms")
        if percentile not in ("p50", "p99"):
            notes.append(f"{percentile} {value:.1f} ms")
        if not value < limit:
            misses.append(percentile)
    if summary.measurement.tolerated_statuses or summary.measurement.numbered:
        notes.append(_answers(summary))
    if problems := problems_of(summary.runs):
        misses.append("errors")
        notes.append(problems)
    if bars:
        verdict.bar = "; ".join(bars)
        verdict.passed = not misses
    elif misses:
        verdict.passed = False
    if misses and bars:
        notes.append("missed: " + ", ".join(misses))
    verdict.note = "; ".join(notes)
    return verdict


def problems_of(runs: Sequence[Run]) -> str:
    """The failures of these runs, totalled: what the run is failed for."""
    failed = [run for run in runs if run.problems]
    if not failed:
        return ""
    tolerated = sum(run.wrk.statuses.get(status, 0) for run in failed
                    for status in run.measurement.tolerated_statuses)
    non_2xx = sum(run.wrk.non_2xx for run in failed) - tolerated
    sockets: dict[str, int] = {}
    for run in failed:
        for kind, count in run.wrk.socket_errors.items():
            sockets[kind] = sockets.get(kind, 0) + count
    parts = [f"{non_2xx} non-2xx"] if non_2xx else []
    parts += [f"{count} socket {kind} errors" for kind, count in sockets.items() if count]
    parts += ["no answer at all"] if any(run.wrk.requests == 0 for run in failed) else []
    return f"FAILED in {len(failed)} of {len(runs)} runs: " + ", ".join(parts)


def _answers(summary: Summary) -> str:
    statuses = summary.statuses
    created = sum(n for status, n in statuses.items() if status.startswith("2"))
    total = sum(statuses.values())
    others = ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items())
                       if not status.startswith("2"))
    return f"{created} of {total} succeeded" + (f" ({others})" if others else "")


def _bar_connections(target: Target, default_connections: int) -> int:
    if target.latency_bound is not None and target.latency_bound[2] is not None:
        return target.latency_bound[2]
    return default_connections


def verdicts(results: Results, *, connections: int, workers: Sequence[int],
             patients: int, data_sizes: Sequence[int]) -> list[Verdict]:
    rows: list[Verdict] = []
    for count in workers:
        for target in TARGETS:
            key = (target.measurement, _bar_connections(target, connections), count, patients)
            summary = results.summary(key)
            if summary is not None:
                rows.append(_target_verdict(results, target, summary, key))
        if count in results.peak_rss_mib:
            rows.append(_memory_verdict(count, results.peak_rss_mib[count], patients))
    if len(data_sizes) > 1:
        rows += _data_scaling_verdicts(results, connections, workers[0], data_sizes)
    return rows


def _memory_verdict(workers: int, peaks: list[float], patients: int) -> Verdict:
    passed = all(peak < MAX_WORKER_PEAK_MIB for peak in peaks)
    scope = "" if patients >= 1_000_000 else "; issue 11 sets it after the 1M run"
    return Verdict("peak RSS per dermifi worker (VmHWM)", workers,
                   bar=f"< {MAX_WORKER_PEAK_MIB:g} MiB each", passed=passed,
                   note=", ".join(f"{peak:.0f} MiB" for peak in peaks) + scope)


def _data_scaling_verdicts(results: Results, connections: int, workers: int,
                           sizes: Sequence[int]) -> list[Verdict]:
    rows = []
    for name, fixed in DATA_SCALING_MEASUREMENTS:
        level = fixed or connections
        summaries = [results.summary((name, level, workers, size)) for size in sizes]
        if any(s is None for s in summaries):
            continue
        rates = [s.rps for s in summaries if s is not None]
        spread = max(rates) / min(rates) - 1 if min(rates) else math.inf
        shown = summaries[0].measurement.shown if summaries[0] else name
        rows.append(Verdict(
            f"{shown} at " + " / ".join(_count(size) for size in sizes), workers, level,
            bar=f"req/s spread <= {MAX_DATA_SCALING_SPREAD:.0%}",
            passed=spread <= MAX_DATA_SCALING_SPREAD,
            note="req/s " + " / ".join(f"{rate:.0f}" for rate in rates)
                 + f": spread {spread:.0%}"))
    return rows


def _count(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return f"{n:,}"


# --- tables --------------------------------------------------------------------------------

def render(headers: Sequence[str], rows: Sequence[Sequence[str]],
           text_columns: Sequence[str]) -> str:
    """A plain text table: numbers right-aligned, the ``text_columns`` left-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    left = [h in text_columns for h in headers]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(w) if is_text else cell.rjust(w)
                         for cell, w, is_text in zip(cells, widths, left, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]),
                      *(line(r) for r in rows)])


def _num(value: float | None, spec: str) -> str:
    return "-" if value is None or math.isnan(value) else format(value, spec)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def measurements_table(results: Results, keys: Sequence[Key]) -> str:
    rows = []
    for key in keys:
        summary = results.summary(key)
        if summary is None:
            continue
        m = summary.measurement
        low, high = summary.rps_range
        answers = _answers(summary) if m.numbered else ""
        rows.append([
            m.name + (" (baseline)" if m.baseline else ""), m.shown, str(key[1]),
            _num(summary.rps, ".0f"), f"{low:.0f}-{high:.0f}",
            *(_num(summary.latency(p), ".2f") for p in ("p50", "p90", "p95", "p99")),
            _pct(summary.wrk_cpu), _num(summary.server_cpu_ms, ".2f"),
            _num(summary.other_cpu, ".2f"),
            "; ".join(filter(None, [answers, problems_of(summary.runs)])),
        ])
    return render(["measurement", "endpoint", "conns", "req/s", "min-max", "p50 ms", "p90 ms",
                   "p95 ms", "p99 ms", "wrk CPU", "srv CPU ms/req", "other cores", "notes"],
                  rows, ("measurement", "endpoint", "notes"))


def targets_table(rows: Sequence[Verdict]) -> str:
    return render(
        ["target", "workers", "conns", "req/s", "p50 ms", "p99 ms", "ratio", "bar", "wrk CPU",
         "result", "notes"],
        [[v.target, _num(v.workers, "d"), _num(v.connections, "d"), _num(v.rps, ".0f"),
          _num(v.p50, ".2f"), _num(v.p99, ".2f"), _num(v.ratio, ".2f"), v.bar,
          _pct(v.wrk_cpu), v.result, v.note] for v in rows],
        ("target", "bar", "result", "notes"))


def process_scaling_table(results: Results, workers: Sequence[int], patients: int) -> str:
    """Requests/s of every measurement at each server process count, and the gain."""
    first, last = workers[0], workers[-1]
    rows = []
    for name, connections, count, size in results.measured_keys():
        if count != first or size != patients:
            continue
        rates: list[float | None] = []
        for w in workers:
            summary = results.summary((name, connections, w, patients))
            rates.append(summary.rps if summary is not None else None)
        low, high = rates[0], rates[-1]
        gain = high / low if low and high else None
        rows.append([name, str(connections), *(_num(r, ".0f") for r in rates),
                     _num(gain, ".2f")])
    return render(["measurement", "conns", *(f"req/s {w}w" for w in workers),
                   f"{last}w / {first}w"], rows, ("measurement",))


# --- JSON ----------------------------------------------------------------------------------

def _clean(value: Any) -> Any:
    """Strict JSON: NaN and infinities become null; floats rounded."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, 4)
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def summaries_json(results: Results) -> list[dict[str, Any]]:
    out = []
    for key in results.measured_keys():
        summary = results.summary(key)
        assert summary is not None
        out.append({
            "measurement": key[0], "connections": key[1], "workers": key[2],
            "patients": key[3], "rounds": len(summary.runs),
            "requests_per_s": summary.rps, "requests_per_s_range": summary.rps_range,
            "latency_ms": {p: summary.latency(p) for p in ("p50", "p90", "p95", "p99")},
            "wrk_cpu_share_per_thread": summary.wrk_cpu,
            "server_cpu_ms_per_request": summary.server_cpu_ms,
            "other_cpu_cores": summary.other_cpu, "statuses": summary.statuses,
        })
    return out


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_clean(document), indent=2, allow_nan=False) + "\n")

