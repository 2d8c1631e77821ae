"""A `meldtekst tag` run that is stopped part-way leaves no temp file of report text and no worker.

Each test starts the real command on a large file with two worker processes, waits until the
temp output exists and the workers run, sends one signal, and checks what is left behind.
"""

from __future__ import annotations

import csv
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from meldtekst.models.store import models_home

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="fork workers and PR_SET_PDEATHSIG: Linux only")

ROWS = 200_000


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory, corpus_rows: list[dict]) -> Path:
    """200,000 reports (corpus texts cycled, cut to 200 characters): a run of about a minute."""
    texts = [r["tekst"][:200] for r in corpus_rows]
    path = tmp_path_factory.mktemp("big") / "meldingen.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "tekst"])
        writer.writerows((f"M{i:06d}", texts[i % len(texts)]) for i in range(ROWS))
    return path


def _start(src: Path, out_dir: Path) -> subprocess.Popen[str]:
    args = ["tag", str(src), "-o", str(out_dir / "tagged.csv"), "-m", str(models_home() / "fast"), "--workers", "2"]
    # a session of its own: signals from the test runner's terminal do not reach it
    return subprocess.Popen(
        [sys.executable, "-m", "meldtekst", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _temp_files(out_dir: Path) -> list[Path]:
    return sorted(out_dir.glob(".*.tmp"))


def _wait_for_workers(proc: subprocess.Popen[str], out_dir: Path, timeout: float = 90) -> list[psutil.Process]:
    """The run's worker processes, once the temp output exists and both workers run."""
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"tag ended early ({proc.returncode}): {proc.stderr.read() if proc.stderr else ''}")
        children = parent.children(recursive=True)
        if len(children) >= 2 and _temp_files(out_dir):
            return children
        time.sleep(0.1)
    pytest.fail("no temp file and two workers within the time limit")


def _kill_all(proc: subprocess.Popen[str], children: list[psutil.Process]) -> None:
    """Whatever a failed test left running."""
    for p in children:
        if p.is_running():
            p.kill()
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_signal_removes_temp_file_and_ends_workers(big_csv: Path, tmp_path: Path, sig: signal.Signals):
    proc = _start(big_csv, tmp_path)
    children: list[psutil.Process] = []
    try:
        children = _wait_for_workers(proc, tmp_path)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 128 + sig, err
        assert err.strip().splitlines()[-1] == f"Interrupted ({sig.name}); no output was written.", err
        assert "Traceback" not in err and "Exception ignored" not in err, err
        assert _temp_files(tmp_path) == []
        assert not (tmp_path / "tagged.csv").exists()
        _, alive = psutil.wait_procs(children, timeout=5)
        assert alive == [], f"workers still running after {sig.name}: {alive}"
    finally:
        _kill_all(proc, children)


def test_sigkill_of_the_parent_ends_the_workers(big_csv: Path, tmp_path: Path):
    """SIGKILL cannot be handled: the temp file stays (the README says to delete it), but the
    workers end with their parent (PR_SET_PDEATHSIG) instead of running on."""
    proc = _start(big_csv, tmp_path)
    children: list[psutil.Process] = []
    try:
        children = _wait_for_workers(proc, tmp_path)
        proc.kill()
        proc.wait(timeout=10)
        _, alive = psutil.wait_procs(children, timeout=10)
        assert alive == [], f"workers outlived their killed parent: {alive}"
    finally:
        _kill_all(proc, children)
        for tmp in _temp_files(tmp_path):
            tmp.unlink()
