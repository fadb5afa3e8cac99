"""Bounded waiting and small network/process helpers.

Every wait in the suite goes through here so that none of them can hang a CI run:
each polls with a deadline and raises TimeoutError saying what it waited for.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")

POLL_INTERVAL = 0.05


def wait_until(check: Callable[[], T], timeout: float, what: str) -> T:
    """Poll `check` until it returns something truthy; return that value.

    `check` may raise to abort the wait early (e.g. when the process it waits for died).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(POLL_INTERVAL)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now. The kernel picks it, so parallel runs don't clash."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_accepts(host: str, port: int) -> bool:
    """True when a TCP connection to host:port succeeds (the listener is up)."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def stop_process(proc: subprocess.Popen, term_timeout: float = 10.0, kill_timeout: float = 5.0) -> int:
    """Stop one child by its PID: SIGTERM, then SIGKILL if it has not exited in time.

    Returns the exit status. Never signals anything but this PID.
    """
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=term_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=kill_timeout)
    return proc.returncode


def tail(path: Path, lines: int = 60) -> str:
    """The last lines of a log file, for failure messages."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"<{path} does not exist>"
    return "\n".join(text.splitlines()[-lines:])
