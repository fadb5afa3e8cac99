"""Fixtures for Causeway's end-to-end tests.

Each test gets its own Prosody (own directory, own free ports) and its own causeway,
both children of this process, both stopped by PID in teardown whatever happens.
When a test fails, the tails of their logs are printed with the failure.

Run with Debian's Python (that is where python3-slixmpp lives):
    CAUSEWAY_BIN=.build/debug/causeway /usr/bin/python3 -m pytest tests/e2e
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Callable, Iterator, Sequence

import pytest

from harness.causeway import STOP_TIMEOUT, Bridge, Causeway, causeway_binary
from harness.prosody import Component, Prosody
from harness.xmpp_client import XmppClient, quiet_slixmpp

DEFAULT_USER = "alice"
DEFAULT_PASSWORD = "alice-password"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test item so fixture teardown can tell whether the
    # test failed and print the server logs that explain why.
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def failed(request: pytest.FixtureRequest) -> bool:
    """True when the test's setup or body failed (reports kept by the hook above)."""
    reports = (getattr(request.node, f"report_{when}", None) for when in ("setup", "call"))
    return any(report is not None and report.failed for report in reports)


def stop_all(things: list, stop: Callable[[object], None]) -> None:
    """Stop every one, even if stopping an earlier one raised; then re-raise the first error."""
    errors = []
    for thing in things:
        try:
            stop(thing)
        except Exception as err:  # raised below, once the others are stopped too
            errors.append(err)
    if errors:
        raise errors[0]


def pytest_configure(config):
    quiet_slixmpp()


@pytest.fixture(scope="session")
def causeway_bin() -> Path:
    """The binary under test. A missing binary fails the tests: it must never skip them."""
    path = causeway_binary()
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"causeway binary not found or not executable: {path}\n"
            "Build it with `swift build` (or run scripts/run-tests), or set CAUSEWAY_BIN.",
            pytrace=False,
        )
    return path


@pytest.fixture
def start_prosody(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., Prosody]]:
    """start_prosody(components=[(domain, secret), ...]) -> a running Prosody with the user
    alice@localhost (password DEFAULT_PASSWORD). Stopped in teardown."""
    started: list[Prosody] = []

    def start(components: Sequence[tuple[str, str]] = ()) -> Prosody:
        prosody = Prosody(
            tmp_path / f"prosody{len(started) or ''}",
            components=[Component(domain, secret) for domain, secret in components],
        )
        prosody.add_user(DEFAULT_USER, DEFAULT_PASSWORD)
        started.append(prosody)
        prosody.start()
        return prosody

    yield start

    def stop(prosody: Prosody) -> None:
        prosody.stop()
        if failed(request):
            print(prosody.diagnostics())

    stop_all(started, stop)


@pytest.fixture
def start_causeway(tmp_path: Path, causeway_bin: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., Causeway]]:
    """start_causeway(prosody, bridges) -> a running causeway pointed at that Prosody's
    component port. Stopped (SIGTERM, then SIGKILL) in teardown."""
    started: list[Causeway] = []

    def start(prosody: Prosody, bridges: list[Bridge]) -> Causeway:
        causeway = Causeway(
            causeway_bin,
            tmp_path / f"causeway{len(started) or ''}",
            component_port=prosody.component_port,
            server_domain=prosody.domain,
            host=prosody.host,
            bridges=list(bridges),
        )
        started.append(causeway)
        causeway.start()
        return causeway

    yield start

    def stop(causeway: Causeway) -> None:
        causeway.stop()
        if causeway.needed_kill:
            # Not this test's subject, but a daemon should shut down on SIGTERM: say so
            # in the summary (and it costs every test the whole stop bound).
            warnings.warn(f"causeway did not exit within {STOP_TIMEOUT:g}s of SIGTERM and was killed ({causeway.log_path})")
        if failed(request):
            print(causeway.diagnostics())

    stop_all(started, stop)


@pytest.fixture
def causeway_files(tmp_path: Path, causeway_bin: Path) -> Callable[..., Causeway]:
    """causeway_files(bridges) -> a Causeway whose config files are written but which is not
    started: for `check-config`. Nothing listens on its component port."""

    def make(bridges: list[Bridge]) -> Causeway:
        return Causeway(causeway_bin, tmp_path / "causeway", component_port=5347, bridges=list(bridges))

    return make


@pytest.fixture
def connect_client() -> Iterator[Callable[..., XmppClient]]:
    """connect_client(prosody, jid=alice@<domain>) -> a logged-in XmppClient, closed in teardown."""
    clients: list[XmppClient] = []

    def connect(prosody: Prosody, jid: str | None = None) -> XmppClient:
        jid = jid or f"{DEFAULT_USER}@{prosody.domain}"
        client = XmppClient(jid, prosody.accounts[jid], prosody.host, prosody.c2s_port)
        clients.append(client)
        return client.connect()

    yield connect
    stop_all(clients, XmppClient.close)
