"""Disk faults in a single run: one line naming the path, exit status 1, no traceback.

Real faults, made as root (CI runs as root; elsewhere these tests skip): a
small tmpfs filled to the last block (full disk, before or during the run),
a read-only tmpfs, and a folder made immutable with ``chattr +i``, before or
during the run (unwritable, permission lost: root ignores permission bits,
not the immutable flag; a tmpfs cannot be remounted read-only while the run
holds its log open). A run refused before it starts
leaves the file system as it found it; a run whose writes fail removes
what it wrote where it still can.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: long enough (several seconds) for a fault to strike while the model runs
LONG_RUN = ["market.n_buyers=300", "steps=400"]


def start(args: list[str], cwd: Path) -> subprocess.Popen:
    """``python -m sim`` in ``cwd``, output captured."""
    return subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen) -> tuple[int, list[str]]:
    """Exit status and the non-empty lines of stderr."""
    _, err = proc.communicate(timeout=300)
    return proc.returncode, [line for line in err.splitlines() if line.strip()]


@contextmanager
def tmpfs(size: str) -> Iterator[Path]:
    """A fresh tmpfs of ``size`` (skips the test where mounting is not permitted)."""
    where = Path(tempfile.mkdtemp(prefix="sim-faults-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)
        where.rmdir()


def fill(folder: Path) -> None:
    """Write a file into ``folder`` until its file system is full."""
    chunk = b"\0" * 4096
    with open(folder / "filler", "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError:
            pass


def wait_for(path: Path, proc: subprocess.Popen) -> None:
    """Until ``path`` exists (Hydra has made the run folder and written into it)."""
    deadline = time.monotonic() + 120
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)


def assert_one_line(status: int, lines: list[str], *fragments: str) -> None:
    assert status == 1, lines
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_full_disk_refuses_before_writing(tmp_path):
    with tmpfs("64k") as disk:
        fill(disk)
        status, lines = finish(start(["market.n_buyers=50", "steps=5",
                                      f"hydra.run.dir={disk}/runs/a"], tmp_path))
        assert_one_line(status, lines, f"{disk}/runs/a", "not enough free disk space")
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folder_gives_one_line_naming_it(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "kept.txt").write_text("data\n")
    if subprocess.run(["chattr", "+i", str(locked)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        status, lines = finish(start(["market.n_buyers=50", "steps=5",
                                      f"hydra.run.dir={locked}/run"], tmp_path))
    finally:
        subprocess.run(["chattr", "-i", str(locked)], check=True)
    assert_one_line(status, lines, f"cannot write into {locked}/run")
    assert [p.name for p in locked.iterdir()] == ["kept.txt"]
    assert "Traceback" not in "\n".join(lines)


@pytest.mark.slow
def test_disk_full_during_the_run_removes_what_it_wrote(tmp_path):
    with tmpfs("4m") as disk:
        proc = start([*LONG_RUN, f"hydra.run.dir={disk}/run"], tmp_path)
        wait_for(disk / "run" / ".hydra" / "overrides.yaml", proc)
        fill(disk)
        status, lines = finish(proc)
        assert_one_line(status, lines, f"{disk}/run", "No space left on device")
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]


@pytest.mark.slow
def test_permission_lost_during_the_run(tmp_path):
    """The run folder turns immutable mid-run: no new file can be made in it."""
    run = tmp_path / "run"
    proc = start([*LONG_RUN, f"hydra.run.dir={run}"], tmp_path)
    wait_for(run / ".hydra" / "overrides.yaml", proc)
    if subprocess.run(["chattr", "+i", str(run)], capture_output=True).returncode != 0:
        proc.kill()
        pytest.skip("chattr +i is not available here")
    try:
        status, lines = finish(proc)
    finally:
        subprocess.run(["chattr", "-i", str(run)], check=True)
    assert_one_line(status, lines, f"{run}", "Operation not permitted")
    assert not (run / "manifest.json").exists()  # no result claims to be complete


def test_read_only_file_system_refuses_before_running(tmp_path):
    with tmpfs("1m") as disk:
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        status, lines = finish(start(["market.n_buyers=50", "steps=5",
                                      f"hydra.run.dir={disk}/run"], tmp_path))
        assert_one_line(status, lines, f"cannot write into {disk}/run", "Read-only file system")
        assert list(disk.iterdir()) == []


def test_tmpfs_helper_leaves_nothing_mounted():
    with tmpfs("64k") as disk:
        assert shutil.disk_usage(disk).total <= 64 * 1024
    assert not os.path.ismount(disk)
