"""Run a real Label Studio server for the end-to-end test and the README screenshot.

Label Studio is its own application with its own pins, so it lives in its own virtualenv,
cached across runs under ~/.cache/meldtekst/labelstudio-venv-<version> (override with
MELDTEKST_LABELSTUDIO_VENV); it is built once, into a temp folder renamed into place, so an
interrupted install never leaves a half venv behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

LABEL_STUDIO_VERSION = "1.23.2"
REQUIREMENTS = [f"label-studio=={LABEL_STUDIO_VERSION}", "label-studio-sdk"]
ADMIN_EMAIL = "beheer@example.org"
ADMIN_PASSWORD = "beheer-wachtwoord-1"
ADMIN_TOKEN = "0f0e0d0c0b0a09080706050403020100deadbeef"  # a legacy API token (40 hex)
NETWORK_HINTS = (
    "Could not find a version",
    "No matching distribution",
    "NewConnectionError",
    "Network is unreachable",
    "Temporary failure in name resolution",
    "ConnectTimeout",
    "Max retries exceeded",
)


class RegistryUnreachable(RuntimeError):
    """PyPI could not be reached: the test skips (with this reason) instead of failing."""


def venv_dir() -> Path:
    env = os.environ.get("MELDTEKST_LABELSTUDIO_VENV")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "meldtekst" / f"labelstudio-venv-{LABEL_STUDIO_VERSION}"


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_venv(timeout: float = 900) -> Path:
    """The cached Label Studio virtualenv, created on first use (about a minute with a pip cache)."""
    venv = venv_dir()
    marker = venv / ".meldtekst-complete"
    if marker.is_file():
        return venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second test process waits for the first install
        if marker.is_file():
            return venv
        tmp = venv.parent / f".{venv.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            subprocess.run([sys.executable, "-m", "venv", str(tmp)], check=True, capture_output=True, timeout=120)
            pip = [str(venv_python(tmp)), "-m", "pip", "install", "--disable-pip-version-check", "-q", *REQUIREMENTS]
            proc = subprocess.run(pip, capture_output=True, text=True, timeout=timeout)
            if proc.returncode != 0:
                tail = (proc.stderr or proc.stdout)[-1500:]
                if any(h in tail for h in NETWORK_HINTS):
                    raise RegistryUnreachable(
                        f"cannot install {' '.join(REQUIREMENTS)} from PyPI: {tail.strip()[-300:]}"
                    )
                raise RuntimeError(f"pip install of Label Studio failed:\n{tail}")
            (tmp / ".meldtekst-complete").write_text(LABEL_STUDIO_VERSION + "\n")
            shutil.rmtree(venv, ignore_errors=True)
            tmp.rename(venv)  # bin/python -m ... keeps working after a move (no console scripts used)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return venv


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_server(venv: Path, data_dir: Path, *, timeout: float = 240) -> Iterator[str]:
    """Start Label Studio on 127.0.0.1 with ``data_dir`` and an admin with a legacy token; yield its URL."""
    port = free_port()
    env = {
        **os.environ,
        "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
        "SENTRY_DSN": "",
        "FRONTEND_SENTRY_DSN": "",
        "COLLECT_ANALYTICS": "false",
    }
    cmd = [
        str(venv_python(venv)), "-m", "label_studio.server", "start", "--no-browser",
        "--internal-host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir),
        "--username", ADMIN_EMAIL, "--password", ADMIN_PASSWORD, "--user-token", ADMIN_TOKEN,
    ]  # fmt: skip
    log = (data_dir / "server.log").open("w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=data_dir, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"Label Studio exited with {proc.returncode}; see {data_dir / 'server.log'}")
            try:
                with urllib.request.urlopen(url + "/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"Label Studio did not answer within {timeout:.0f}s; see {data_dir / 'server.log'}")
            time.sleep(1)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
        log.close()
