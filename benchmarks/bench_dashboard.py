"""``make bench-dashboard``: how fast the teaching dashboard plays in a real browser (issue 18).

Serves the app (``solara run sim/app.py``), opens it in Debian's headless
Chromium at 1024×768 and measures what the class sees, from the step counter
on the page (it changes in the same render as the charts): time to the first
full render, time to switch lessons, latency of the Step button, and steps
per second while playing at each speed for ``--seconds`` seconds (lesson F1,
300 buyers, 4 suppliers), with the server's CPU time per step (model, pictures,
render) and the browser's (Chromium and Playwright's driver): figures that depend less
on the load of the machine than steps/s. Prints a table, writes
``benchmarks/results/dashboard.json`` with the machine's load.

    .venv/bin/python -m benchmarks.bench_dashboard --seconds 15
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import table, write
from sim.dashboard.components import SPEEDS
from sim.dashboard.lessons import LESSONS
from sim.dashboard.serve import CHROMIUM, CHROMIUM_ARGS, Served, serve


def _browser_cpu_seconds(server_pid: int) -> float:
    """CPU time used so far by this process's descendants other than the server (Chromium
    and Playwright's driver), from /proc."""
    stats: dict[int, tuple[int, float]] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    total, me = 0.0, os.getpid()
    for pid, (_, cpu) in stats.items():
        parent = pid
        while parent in stats and parent not in (me, server_pid, 0, 1):
            parent = stats[parent][0]
        if parent == me and pid != server_pid:
            total += cpu
    return total


def _now(page: Any) -> int:
    return int(page.get_by_test_id("step").inner_text())


def _choose(page: Any, testid: str, option: str) -> None:
    page.get_by_test_id(testid).locator(".v-select").click()
    page.locator(".v-menu__content:visible .v-list-item").filter(has_text=option).first.click()


def _play(page: Any, served: Served, speed: str, seconds: float,
          warmup: float = 2.0) -> dict[str, Any]:
    _choose(page, "speed", speed)
    page.get_by_test_id("play").click()
    time.sleep(warmup)
    s0, t0, c0 = _now(page), time.perf_counter(), served.cpu_seconds()
    b0 = _browser_cpu_seconds(served.pid)
    time.sleep(seconds)
    s1, t1, c1 = _now(page), time.perf_counter(), served.cpu_seconds()
    b1 = _browser_cpu_seconds(served.pid)
    page.get_by_test_id("pause").click()
    time.sleep(0.5)
    steps = s1 - s0
    return {"speed": speed, "steps": steps, "seconds": round(t1 - t0, 2),
            "steps_per_s": round(steps / (t1 - t0), 2),
            "server_cpu_ms_per_step": round(1000 * (c1 - c0) / steps, 1) if steps else None,
            "browser_cpu_ms_per_step": round(1000 * (b1 - b0) / steps, 1) if steps else None,
            "reached_step": s1}


def run(seconds: float) -> dict[str, Any]:
    """Open the dashboard in Chromium and time it; the figures as a dict."""
    from playwright.sync_api import sync_playwright

    load_before = list(os.getloadavg())
    with tempfile.TemporaryDirectory() as tmp, serve(Path(tmp) / "server.log") as served, \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1024, "height": 768})
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
        page.set_default_timeout(60_000)

        t = time.perf_counter()
        page.goto(served.url)
        page.locator(".key-chart svg").first.wait_for(timeout=120_000)
        first_render = time.perf_counter() - t

        f2 = LESSONS["f2_salesperson_leaves"].title
        page.get_by_test_id("lesson").locator(".v-select").click()
        item = page.locator(".v-menu__content:visible .v-list-item").filter(has_text=f2).first
        t = time.perf_counter()
        item.click()
        page.locator(".lesson-title").filter(has_text=f2).wait_for()
        page.locator("[data-testid=step]:text-is('0')").wait_for()
        page.locator(".key-chart svg").first.wait_for()
        lesson_switch = time.perf_counter() - t

        latencies = []
        for _ in range(10):
            start = _now(page)
            t = time.perf_counter()
            page.get_by_test_id("step-button").click()
            page.locator(f"[data-testid=step]:text-is('{start + 1}')").wait_for()
            latencies.append(time.perf_counter() - t)
        _choose(page, "lesson", LESSONS["f1_team_selling"].title)
        page.locator("[data-testid=step]:text-is('0')").wait_for()
        plays = [_play(page, served, speed, seconds) for speed in SPEEDS
                 if speed != "1 step/s"]
        browser.close()
    return {
        "lesson": "f1_team_selling", "buyers": 300, "viewport": "1024x768",
        "first_render_s": round(first_render, 2), "lesson_switch_s": round(lesson_switch, 2),
        "step_latency_s_median": round(statistics.median(latencies), 3),
        "play": plays, "problems": problems,
        "load_average_before": load_before, "load_average_after": list(os.getloadavg()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="play time per speed")
    result = run(parser.parse_args().seconds)
    print(table([{"measure": "first full render (s)", "value": result["first_render_s"]},
                 {"measure": "lesson switch (s)", "value": result["lesson_switch_s"]},
                 {"measure": "Step button, median (s)", "value": result["step_latency_s_median"]}],
                "Dashboard in Chromium, 1024x768, 300 buyers"))
    print(table([{k: p[k] for k in ("speed", "steps", "seconds", "steps_per_s",
                                    "server_cpu_ms_per_step", "browser_cpu_ms_per_step")}
                 for p in result["play"]], "Playing lesson F1"))
    print(f"load average before {result['load_average_before']}, "
          f"after {result['load_average_after']}; problems: {result['problems'] or 'none'}")
    write("dashboard", result)


if __name__ == "__main__":
    main()
