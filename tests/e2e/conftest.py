"""Fixtures for Causeway's end-to-end tests.

Each test gets its own Prosody (own directory, own free ports) and its own causeway
(own store, vault key and HTTP port), and for SMS tests its own stub carrier
(`causeway sms-stub`), all children of this process, stopped by PID in teardown whatever
happens. When a test fails, the tails of their logs are printed with the failure.

Run with Debian's Python (that is where python3-slixmpp lives):
    CAUSEWAY_BIN=.build/debug/causeway /usr/bin/python3 -m pytest tests/e2e
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Callable, Iterator, Sequence

import pytest

from harness.irc_gateway import IrcWorld, start_irc_gateway
from harness.ngircd import Ngircd, RawIrcClient
from harness.causeway import STOP_TIMEOUT, Bridge, Causeway, causeway_binary, sms_bridge
from harness.prosody import Component, Prosody
from harness.sms_gateway import (
    ACCT_1,
    ACCT_2,
    BRIDGE_NAME,
    RECONNECT_INITIAL,
    RECONNECT_MAX,
    SMS_DOMAIN,
    SMS_SECRET,
    WEBHOOK_SECRET,
    SmsGateway,
)
from harness.sms_stub import CarrierAccount, StubCarrier
from harness.waiting import free_port
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
    """start_prosody(components=[(domain, secret), ...], users=[(name, password, host)], **options)
    -> a running Prosody with the user alice@localhost (password DEFAULT_PASSWORD) and `users`
    (host None: the main domain). Options go to Prosody (extra_hosts, privileged_entities).
    Stopped in teardown."""
    started: list[Prosody] = []

    def start(components: Sequence[tuple[str, str]] = (), users: Sequence[tuple[str, str, str | None]] = (), **options) -> Prosody:
        prosody = Prosody(
            tmp_path / f"prosody{len(started) or ''}",
            components=[Component(domain, secret) for domain, secret in components],
            **options,
        )
        prosody.add_user(DEFAULT_USER, DEFAULT_PASSWORD)
        for name, password, host in users:
            prosody.add_user(name, password, host=host)
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
    """start_causeway(prosody, bridges, **options) -> a running causeway pointed at that Prosody's
    component port. Options go to Causeway (http_port, allowed_domains, admins, reconnect
    delays…). Stopped (SIGTERM, then SIGKILL) in teardown."""
    started: list[Causeway] = []

    def start(prosody: Prosody, bridges: list[Bridge], **options) -> Causeway:
        causeway = Causeway(
            causeway_bin,
            tmp_path / f"causeway{len(started) or ''}",
            component_port=prosody.component_port,
            server_domain=prosody.domain,
            host=prosody.host,
            bridges=list(bridges),
            **options,
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
def make_stub(tmp_path: Path, causeway_bin: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., StubCarrier]]:
    """make_stub(webhook_secret, accounts, port=None) -> a StubCarrier, not started yet (its
    port is picked, so a bridge config can name its URL first). Stopped by PID in teardown."""
    made: list[StubCarrier] = []

    def make(webhook_secret: str, accounts=(), port: int | None = None) -> StubCarrier:
        options = {} if port is None else {"port": port}
        stub = StubCarrier(causeway_bin, tmp_path / f"stub{len(made) or ''}", webhook_secret, list(accounts), **options)
        made.append(stub)
        return stub

    yield make

    def stop(stub: StubCarrier) -> None:
        stub.stop()
        if failed(request):
            print(stub.diagnostics())

    stop_all(made, stop)


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

    def connect(prosody: Prosody, jid: str | None = None, timeout: float | None = None) -> XmppClient:
        jid = jid or f"{DEFAULT_USER}@{prosody.domain}"
        options = {} if timeout is None else {"timeout": timeout}
        client = XmppClient(jid, prosody.accounts[jid], prosody.host, prosody.c2s_port, **options)
        clients.append(client)
        return client.connect()

    yield connect
    stop_all(clients, XmppClient.close)


@pytest.fixture
def sms_gateway(start_prosody, start_causeway, make_stub) -> Callable[..., SmsGateway]:
    """sms_gateway(**options) -> an SmsGateway: Prosody with the SMS component and users alice,
    bob and admin @localhost, the stub carrier with accounts acct-1 and acct-2 posting to
    causeway's webhooks, and causeway running an `sms` bridge on sms.localhost, link up.

    Options: privilege (grant XEP-0356 roster/message privileges), extra_hosts (more
    VirtualHosts, each with a user carol), carrier (extra [carrier] keys), allowed_domains,
    admins (default admin@localhost)."""

    def make(
        privilege: bool = False,
        extra_hosts: Sequence[str] = (),
        carrier: dict | None = None,
        allowed_domains: list[str] | None = None,
        admins: Sequence[str] = ("admin@localhost",),
    ) -> SmsGateway:
        prosody_options = {"extra_hosts": list(extra_hosts)}
        if privilege:
            prosody_options["privileged_entities"] = {SMS_DOMAIN: {"roster": "both", "message": "outgoing"}}
        users = [(name, f"{name}-password", None) for name in ("bob", "admin")]
        users += [("carol", "carol-password", host) for host in extra_hosts]
        prosody = start_prosody(components=[(SMS_DOMAIN, SMS_SECRET)], users=users, **prosody_options)

        http_port = free_port()
        webhooks = f"http://127.0.0.1:{http_port}/webhooks/{BRIDGE_NAME}"
        stub = make_stub(WEBHOOK_SECRET, [CarrierAccount(i, t, n, webhooks) for i, t, n in (ACCT_1, ACCT_2)])
        carrier_options = {"request_timeout_seconds": 5, "attempts": 3}
        carrier_options.update(carrier or {})
        bridge = sms_bridge(BRIDGE_NAME, SMS_DOMAIN, SMS_SECRET, stub.url, WEBHOOK_SECRET, **carrier_options)
        stub.start()

        causeway_options = {
            "http_port": http_port,
            "admins": list(admins),
            "reconnect_initial_seconds": RECONNECT_INITIAL,
            "reconnect_max_seconds": RECONNECT_MAX,
        }
        if allowed_domains is not None:
            causeway_options["allowed_domains"] = allowed_domains
        causeway = start_causeway(prosody, [bridge], **causeway_options)
        assert causeway.webhook_base_url(BRIDGE_NAME) == webhooks
        gateway = SmsGateway(prosody, causeway, stub, bridge)
        gateway.wait_ready()
        return gateway

    return make


@pytest.fixture
def irc_world(tmp_path: Path, start_prosody, start_causeway, connect_client) -> Iterator[Callable[..., IrcWorld]]:
    """Starts ngircd, Prosody and causeway with an IRC bridge, alice registered and online:
    `irc_world(tables)` returns an IrcWorld whose `person(nick)` connects raw IRC clients;
    `tables(ngircd)` gives extra bridge tables that need the server's port, `causeway_tables`
    extra tables for causeway.toml. Everything is stopped afterwards."""
    worlds: list[IrcWorld] = []

    def start(tables: Callable[[Ngircd], dict] | None = None, causeway_tables: dict | None = None) -> IrcWorld:
        ngircd = Ngircd(tmp_path / "ngircd")
        ngircd.start()
        world = IrcWorld(None, None, ngircd, None)  # filled in below; stopped even if startup fails
        worlds.append(world)
        alice, prosody, causeway = start_irc_gateway(ngircd, start_prosody, start_causeway, connect_client,
                                           tables(ngircd) if tables else None, causeway_tables)
        clients = world.clients

        def person(nick: str) -> RawIrcClient:
            client = RawIrcClient(ngircd.port, nick)
            clients.append(client)
            return client

        world.alice, world.person, world.prosody, world.causeway = alice, person, prosody, causeway
        return world

    yield start
    for world in worlds:
        for client in world.clients:
            client.close()
        world.ngircd.stop()
