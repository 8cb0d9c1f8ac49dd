"""Serve the dashboard on a free local port and open it in headless Chromium (tests, benchmark).

The project never downloads a browser: it drives Debian's ``chromium``
(``make browser`` installs it) through Playwright.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def free_port() -> int:
    """A free local TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Served:
    """A running dashboard server: its URL and process id."""

    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (user + system, from /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serve(log_path: Path, timeout: float = 90.0) -> Iterator[Served]:
    """``solara run sim/app.py`` on a free port until the block ends.

    Raises:
        RuntimeError: the server did not answer within ``timeout`` seconds (the log's
            tail is in the message).
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    solara_bin = Path(sys.executable).with_name("solara")
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [str(solara_bin), "run", "sim/app.py", "--host", "127.0.0.1", "--port", str(port),
             "--no-open", "--production"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    with urllib.request.urlopen(url, timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"solara did not start on {url} (exit code "
                                       f"{proc.poll()}):\n{log_path.read_text()[-2000:]}")
                time.sleep(0.5)
            yield Served(url, proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
