"""Shared helpers of the benchmarks: machine info, model runs, tables, JSON results."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def one_core() -> None:
    """Keep BLAS/OpenMP pools to one thread (call before numpy is imported)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(var, "1")


def machine() -> dict[str, Any]:
    """CPU, cores, memory, load and package versions of this machine."""
    import mesa
    import networkx
    import numpy
    import scipy

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_gb": mem_gb,
        "load_average": list(os.getloadavg()), "platform": platform.platform(),
        "python": platform.python_version(), "numpy": numpy.__version__,
        "scipy": scipy.__version__, "networkx": networkx.__version__,
        "mesa": mesa.__version__, "commit": commit,
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def peak_rss_gb() -> float:
    """Peak resident set size of this process so far (GB; Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def make_model(n_buyers: int, n_suppliers: int = 20, engine: str = "vector", seed: int = 1,
               extra: list[str] | None = None):
    """A RelationshipModel with all mechanisms on (default config) at the given size."""
    from sim import RelationshipModel, make_config

    cfg = make_config([f"market.n_buyers={n_buyers}", f"market.n_suppliers={n_suppliers}",
                       f"engine={engine}", f"seed={seed}", *(extra or [])])
    return RelationshipModel(cfg)


def time_steps(model, steps: int, warmup: int = 1) -> tuple[list[float], list[float]]:
    """Wall and CPU time of each of ``steps`` steps after ``warmup`` untimed ones.

    The CPU time (``time.process_time``: this process only, one thread) is
    what the step costs on one core; the wall time also holds whatever else
    the machine runs (other jobs take turns on the same cores).
    """
    for _ in range(warmup):
        model.step()
    wall, cpu = [], []
    for _ in range(steps):
        t0, c0 = time.perf_counter(), time.process_time()
        model.step()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu


def median(values: list[float]) -> float:
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else 0.5 * (s[mid - 1] + s[mid])


def table(rows: list[dict[str, Any]], title: str) -> str:
    """A plain-text table of dict rows (same keys), numbers formatted compactly."""
    if not rows:
        return title
    keys = list(rows[0])

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}" if abs(v) < 1e5 else f"{v:,.0f}"
        return str(v)

    cells = [[fmt(r.get(k, "")) for k in keys] for r in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    line = "  ".join(k.rjust(w) for k, w in zip(keys, widths, strict=True))
    out = [title, line, "-" * len(line)]
    out += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(out)


def write(name: str, payload: dict[str, Any]) -> Path:
    """Write ``benchmarks/results/<name>.json`` with machine info added."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"benchmark": name, "machine": machine(), **payload},
                               indent=1, default=float) + "\n")
    print(f"-> {path.relative_to(ROOT)}", file=sys.stderr)
    return path
