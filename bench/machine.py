"""Facts about the machine and how busy it is: numbers from a shared or throttled box lie."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def nproc() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_revision() -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        head = subprocess.run([git, "-C", str(PROJECT_ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10, check=True)
        dirty = subprocess.run([git, "-C", str(PROJECT_ROOT), "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


@dataclass(frozen=True)
class CpuSample:
    """Machine-wide CPU seconds since boot, summed over cores (Linux /proc/stat)."""

    busy: float  # includes steal: time the hypervisor gave to someone else
    total: float

    @staticmethod
    def take() -> CpuSample | None:
        try:
            fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except (OSError, ValueError):
            return None
        # user nice system idle iowait irq softirq steal (guest time is already in user).
        idle = fields[3] + fields[4]
        total = sum(fields[:8])
        return CpuSample((total - idle) / CLOCK_TICKS, total / CLOCK_TICKS)


def busy_cores_between(before: CpuSample | None, after: CpuSample | None) -> float | None:
    """How many cores were busy on average (0..nproc) between two samples."""
    if before is None or after is None or after.total <= before.total:
        return None
    share = (after.busy - before.busy) / (after.total - before.total)
    return share * nproc()


def background_load(seconds: float = 1.0) -> float | None:
    """Cores kept busy by other work right now, before the bench adds its own."""
    before = CpuSample.take()
    time.sleep(seconds)
    return busy_cores_between(before, CpuSample.take())


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"
