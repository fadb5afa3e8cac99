"""Nothing is lost: 500 inbound texts, numbered "n 1" … "n 500", injected through the stub
carrier while causeway or Prosody restarts in the middle; the user must get each exactly
once, in order.

The injector is sequential: text n+1 is injected only after the stub reports that causeway
accepted text n (2xx). The stub retries a webhook itself a few times with backoff; when
causeway is down for longer, the injector injects the same text again (only texts the stub
reports as not accepted), so the order of acceptance is the order of numbering.
"""

from __future__ import annotations

import re
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field

import pytest

from harness.sms_gateway import ALICE_SUB, SmsGateway, contact_jid
from harness.xmpp_client import XmppClient, bare, is_message

TOTAL = 500
MIDDLE = TOTAL // 2
SENDERS = ["+15554440001", "+15554440002", "+15554440003"]
SENDER_JIDS = {contact_jid(number) for number in SENDERS}
# Bounds: injecting one text (retries included), and everything arriving once injected.
INJECT_ONE_TIMEOUT = 60.0
ARRIVAL_TIMEOUT = 120.0
# After the last expected text, listen this long for late duplicates.
SETTLE = 3.0
# How long causeway stays down in (a). A short outage is bridged by the stub's own webhook
# retries (its HTTP client even keeps reconnecting within one attempt's 5 s timeout); a long
# one outlasts them (4 attempts: about 21 s), so the stub reports 502 and the injector has
# to inject that text again.
SHORT_DOWNTIME = 3.0
LONG_DOWNTIME = 25.0
# How long Prosody stays down in (b): texts keep arriving meanwhile and wait in causeway's store.
PROSODY_DOWNTIME = 1.5
# At most this many texts a second: the injection then spans the outages, so texts arrive
# before, during and after each one.
PACE = 0.01
BODY = re.compile(r"^n (\d+)$")


def sender_of(n: int) -> str:
    return SENDERS[n % len(SENDERS)]


@dataclass
class Injector:
    """Injects "n 1" … "n TOTAL" in order from a thread; `reached_middle` is set once text
    MIDDLE is accepted."""

    gw: SmsGateway
    to: str
    reached_middle: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    accepted: int = 0
    reinjected: dict[int, list[str]] = field(default_factory=dict)  # n -> why earlier tries failed
    error: BaseException | None = None
    started: float = 0.0
    finished: float = 0.0

    def start(self) -> None:
        self.started = time.monotonic()
        threading.Thread(target=self._run, name="sms-injector", daemon=True).start()

    def _run(self) -> None:
        try:
            for n in range(1, TOTAL + 1):
                began = time.monotonic()
                self._inject(n)
                time.sleep(max(0.0, PACE - (time.monotonic() - began)))
                self.accepted = n
                if n == MIDDLE:
                    self.reached_middle.set()
        except BaseException as err:  # re-raised by the test
            self.error = err
        finally:
            self.finished = time.monotonic()
            self.reached_middle.set()
            self.done.set()

    def _inject(self, n: int) -> None:
        deadline = time.monotonic() + INJECT_ONE_TIMEOUT
        while True:
            try:
                result = self.gw.stub.inbound(sender_of(n), self.to, f"n {n}")
                if result.delivered:
                    return
                why = result.describe()
            except OSError as err:  # the stub itself did not answer in time
                why = f"{type(err).__name__}: {err}"
            self.reinjected.setdefault(n, []).append(why)
            if time.monotonic() >= deadline:
                raise AssertionError(f"text n {n} was not accepted within {INJECT_ONE_TIMEOUT:g}s; tries: {self.reinjected[n]}")
            time.sleep(0.25)

    def wait(self, client: XmppClient | None, timeout: float) -> None:
        """Wait for the injector to finish, pumping the client meanwhile."""
        self._wait_for(self.done, client, timeout, lambda: f"injection did not finish within {timeout:g}s (accepted up to n {self.accepted})")

    def wait_middle(self, client: XmppClient | None, timeout: float = 60.0) -> None:
        self._wait_for(self.reached_middle, client, timeout, lambda: f"injection did not reach n {MIDDLE} within {timeout:g}s (at n {self.accepted})")

    def _wait_for(self, event: threading.Event, client: XmppClient | None, timeout: float, failure) -> None:
        deadline = time.monotonic() + timeout
        while not event.is_set():
            assert time.monotonic() < deadline, failure()
            if client is not None:
                client.pump(0.1)
            else:
                event.wait(0.1)
        if self.error is not None:
            raise self.error

    def summary(self) -> str:
        text = f"injected {self.accepted}/{TOTAL} in {self.finished - self.started:.1f}s"
        if not self.reinjected:
            return text + "; none injected twice"
        retried = sorted((n, len(whys)) for n, whys in self.reinjected.items())
        first, whys = next(iter(self.reinjected.items()))
        return text + f"; injected again (n, failed tries): {retried[:20]} (e.g. n {first}: {whys[0]})"


def is_numbered(element: ET.Element) -> bool:
    if not is_message()(element) or bare(element.get("from", "")) not in SENDER_JIDS:
        return False
    return BODY.match(element.findtext("{jabber:client}body") or "") is not None


def numbers_of(elements: list[ET.Element]) -> list[int]:
    return [int(BODY.match(el.findtext("{jabber:client}body")).group(1)) for el in elements]


def check_exactly_once_in_order(received: list[int], context: str) -> None:
    counts = Counter(received)
    missing = [n for n in range(1, TOTAL + 1) if n not in counts]
    duplicated = sorted(n for n, c in counts.items() if c > 1)
    unexpected = sorted(n for n in counts if not 1 <= n <= TOTAL)
    # Out of order: first arrivals that come after a larger number's first arrival.
    firsts, seen = [], set()
    for n in received:
        if n not in seen:
            seen.add(n)
            firsts.append(n)
    out_of_order = [(i, n, firsts[i - 1]) for i, n in enumerate(firsts) if i > 0 and n < firsts[i - 1]]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing: {compress(missing)}")
    if duplicated:
        problems.append(f"{len(duplicated)} duplicated: {compress(duplicated)} (counts {[(n, counts[n]) for n in duplicated[:10]]})")
    if unexpected:
        problems.append(f"unexpected numbers: {unexpected[:20]}")
    if out_of_order:
        shown = ", ".join(f"n {n} after n {prev} (position {i})" for i, n, prev in out_of_order[:10])
        problems.append(f"{len(out_of_order)} out of order: {shown}")
    assert not problems, f"{context}: {len(received)} texts received; " + "; ".join(problems)


def compress(numbers: list[int]) -> str:
    """[1,2,3,7,9,10] -> "1-3, 7, 9-10" (first 30 runs)."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    text = ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in runs[:30])
    return text + (" …" if len(runs) > 30 else "")


def receive_all(client: XmppClient, since: int, context: str) -> list[int]:
    """Every numbered text received since `since`, once all TOTAL distinct ones arrived (or
    the bound passed), plus SETTLE seconds for late duplicates."""
    deadline = time.monotonic() + ARRIVAL_TIMEOUT
    while len(set(numbers_of(client.find_all(is_numbered, since)))) < TOTAL and time.monotonic() < deadline:
        client.pump(0.2)
    client.pump(SETTLE)
    return numbers_of(client.find_all(is_numbered, since))


@pytest.mark.parametrize("downtime", [SHORT_DOWNTIME, LONG_DOWNTIME], ids=["short-outage", "outage-beyond-stub-retries"])
def test_causeway_restart_mid_stream_loses_nothing(sms_gateway, connect_client, downtime):
    """(a) SIGTERM causeway at text 250 and start it again, with the same config and store,
    `downtime` seconds later; the user stays online throughout."""
    gw = sms_gateway()
    alice = connect_client(gw.prosody)
    gw.registered_online(alice, ALICE_SUB)
    mark = alice.mark()

    injector = Injector(gw, ALICE_SUB.number)
    injector.start()
    injector.wait_middle(alice)
    log_mark = gw.causeway.log_mark()
    status = gw.causeway.stop()
    assert not gw.causeway.needed_kill, f"causeway needed SIGKILL to stop mid-stream (status {status})"
    alice.pump(downtime)
    gw.causeway.start()
    gw.wait_ready(since=log_mark)
    injector.wait(alice, timeout=ARRIVAL_TIMEOUT)

    received = receive_all(alice, mark, "online user")
    print(f"causeway restart, {downtime:g} s down: {injector.summary()}; {len(received)} received")
    check_exactly_once_in_order(
        received, f"causeway restarted at n {MIDDLE}, {downtime:g} s down (exit status {status}); {injector.summary()}"
    )


def test_prosody_restart_mid_stream_loses_nothing_for_an_offline_user(sms_gateway, connect_client):
    """(b) Restart Prosody at text 250 while causeway keeps accepting webhooks: texts that
    arrive while the component link is down wait in causeway's store and go out in order
    after it reconnects. The user is offline throughout (Prosody stores the texts) and logs
    in at the end."""
    gw = sms_gateway()
    alice = connect_client(gw.prosody)
    gw.registered_online(alice, ALICE_SUB)
    alice.close()

    injector = Injector(gw, ALICE_SUB.number)
    injector.start()
    injector.wait_middle(None)
    log_mark = gw.causeway.log_mark()
    gw.prosody.stop()
    accepted_before = injector.accepted
    time.sleep(PROSODY_DOWNTIME)
    accepted_while_down = injector.accepted - accepted_before
    gw.prosody.start()
    gw.wait_link(since=log_mark, timeout=30)
    injector.wait(None, timeout=ARRIVAL_TIMEOUT)
    # Give the last stored texts time to leave causeway's store for Prosody's.
    time.sleep(2.0)

    alice = connect_client(gw.prosody, timeout=30)
    mark = alice.mark()
    alice.go_online()
    received = receive_all(alice, mark, "offline user")
    context = f"Prosody down at n {MIDDLE} for {PROSODY_DOWNTIME:g} s, {accepted_while_down} texts taken meanwhile; {injector.summary()}"
    print(f"{context}; {len(received)} received")
    check_exactly_once_in_order(received, context)


def test_prosody_restart_mid_stream_loses_nothing_for_a_reconnecting_user(sms_gateway, connect_client):
    """(b') The same with the user online, cut off by the restart and reconnecting at once:
    texts arrive live, through Prosody's offline store while disconnected, and live again."""
    gw = sms_gateway()
    alice = connect_client(gw.prosody)
    gw.registered_online(alice, ALICE_SUB)
    mark = alice.mark()

    injector = Injector(gw, ALICE_SUB.number)
    injector.start()
    injector.wait_middle(alice)
    log_mark = gw.causeway.log_mark()
    gw.prosody.stop()
    accepted_before = injector.accepted
    alice.pump(0.5)  # read what the old session got before Prosody closed it
    before = numbers_of(alice.find_all(is_numbered, mark))
    alice.close()
    time.sleep(max(0.0, PROSODY_DOWNTIME - 0.5))
    accepted_while_down = injector.accepted - accepted_before
    gw.prosody.start()
    alice = connect_client(gw.prosody, timeout=30)
    second_mark = alice.mark()
    alice.go_online()
    gw.wait_link(since=log_mark, timeout=30)
    injector.wait(alice, timeout=ARRIVAL_TIMEOUT)

    after = receive_all_from(alice, second_mark, expected=TOTAL - len(set(before)))
    context = (
        f"Prosody down at n {MIDDLE} for {PROSODY_DOWNTIME:g} s, {accepted_while_down} texts taken meanwhile, "
        f"user reconnected; {injector.summary()}"
    )
    print(f"{context}; {len(before)} received before, {len(after)} after")
    check_exactly_once_in_order(before + after, context)


def receive_all_from(client: XmppClient, since: int, expected: int) -> list[int]:
    deadline = time.monotonic() + ARRIVAL_TIMEOUT
    while len(set(numbers_of(client.find_all(is_numbered, since)))) < expected and time.monotonic() < deadline:
        client.pump(0.2)
    client.pump(SETTLE)
    return numbers_of(client.find_all(is_numbered, since))


def test_texts_stored_while_the_link_is_down_survive_a_daemon_restart(sms_gateway, connect_client):
    """Texts causeway takes while Prosody is down wait in its store; a SIGTERM restart of
    causeway in that state keeps them, and they go out, in order, once Prosody is back."""
    count = 50
    gw = sms_gateway()
    alice = connect_client(gw.prosody)
    gw.registered_online(alice, ALICE_SUB)
    alice.close()

    gw.prosody.stop()
    for n in range(1, count + 1):
        result = gw.stub.inbound(sender_of(n), ALICE_SUB.number, f"n {n}")
        assert result.delivered, f"causeway refused text n {n} while the link was down: {result.describe()}"
    status = gw.causeway.stop()
    assert not gw.causeway.needed_kill, f"causeway needed SIGKILL to stop with the link down (status {status})"

    log_mark = gw.causeway.log_mark()
    gw.prosody.start()
    gw.causeway.start()
    gw.wait_link(since=log_mark, timeout=30)

    alice = connect_client(gw.prosody, timeout=30)
    mark = alice.mark()
    alice.go_online()
    deadline = time.monotonic() + 30
    while len(set(numbers_of(alice.find_all(is_numbered, mark)))) < count and time.monotonic() < deadline:
        alice.pump(0.2)
    alice.pump(SETTLE)
    received = numbers_of(alice.find_all(is_numbered, mark))
    assert received == list(range(1, count + 1)), (
        f"expected n 1 … n {count} once each, in order, after the restart; got {len(received)}: {compress(received) if received else 'nothing'}"
        f" (in arrival order: {received[:60]})"
    )
