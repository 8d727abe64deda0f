"""Processes and HTTP helpers for the Tollgate interop tests (standard library only)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


def tollgate_binary() -> str:
    """The `tollgate` executable under test: $TOLLGATE_BIN, else the debug build in the checkout."""
    path = os.environ.get("TOLLGATE_BIN") or str(REPO_ROOT / ".build" / "debug" / "tollgate")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise RuntimeError(f"tollgate executable not found at {path!r}; build it or set TOLLGATE_BIN")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Process:
    """A `tollgate` subprocess whose output goes to a log file, shown when something fails."""

    name: str
    popen: subprocess.Popen
    log_path: Path

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-8000:]
        except OSError:
            return ""

    def wait_for_port(self, port: int, timeout: float = STARTUP_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with status {self.popen.returncode} before listening on {port}:\n"
                    + self.output()
                )
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not listen on port {port} within {timeout} s:\n" + self.output())

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL if it does not exit in time; returns the exit status."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=STOP_TIMEOUT_S)
        return self.popen.returncode


def start(name: str, args: list[str], log_dir: Path, env: dict[str, str] | None = None) -> Process:
    log_path = log_dir / f"{name}.log"
    log = open(log_path, "wb")
    popen = subprocess.Popen(
        [tollgate_binary(), *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    log.close()
    return Process(name=name, popen=popen, log_path=log_path)


def get_json(url: str, token: str, timeout: float = 5.0) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body or b"{}")
        except ValueError:
            return error.code, {"raw": body.decode(errors="replace")}


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
