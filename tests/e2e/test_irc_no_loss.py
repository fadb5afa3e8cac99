"""Nothing is lost on the IRC side either: lines an IRC user writes to an XMPP user while the
gateway's component link goes down and comes back (Prosody restarts) all reach the XMPP user,
in order, and nothing is repeated that a client could not recognise as a repeat.

IRC cannot resend, so causeway sends these from memory while the link is up and stores only
what the link did not acknowledge when it dropped, plus what arrives while it is down. This
test drives that path with real Prosody, ngircd and causeway: the user stays connected to IRC
while offline, so Prosody's offline store receives every line."""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict

import pytest

from harness.irc_gateway import IRC_DOMAIN
from harness.ngircd import RawIrcClient
from harness.xmpp_client import bare, is_message

TOTAL = 400
# Lines are written at most this often, so they arrive before, during and after the outage;
# DURING of them while Prosody is out.
PACE = 0.005
DURING = 100
ARRIVAL_TIMEOUT = 60.0
SETTLE = 2.0
BOB = f"bob_irc%127.0.0.1@{IRC_DOMAIN}"
BODY = re.compile(r"^n (\d+)$")


@pytest.fixture
def stack(irc_world):
    world = irc_world()
    return world.alice, world.person("bob_irc"), world.prosody, world.causeway


def numbered(element) -> bool:
    if not is_message()(element) or bare(element.get("from", "")) != BOB:
        return False
    return BODY.match(element.findtext("{jabber:client}body") or "") is not None


def numbers(elements) -> list[int]:
    return [int(BODY.match(el.findtext("{jabber:client}body")).group(1)) for el in elements]


def write_lines(bob: RawIrcClient, first: int, last: int) -> None:
    for n in range(first, last + 1):
        began = time.monotonic()
        bob.send(f"PRIVMSG alice_xmpp :n {n}")
        time.sleep(max(0.0, PACE - (time.monotonic() - began)))


@pytest.mark.parametrize("outage", ["restart", "freeze-then-kill"])
def test_irc_lines_across_a_prosody_outage_all_arrive_in_order(stack, connect_client, outage):
    """restart: SIGTERM. Prosody stores what it read before closing the link, but may close it
    before answering the ping that covers the last lines (it reads 8 KiB at a time, and a ping
    can be in a read it never makes). Those lines come again after the reconnect: XEP-0114 has
    no acknowledgement, so delivery across a server restart is at least once. A repeat is
    allowed only for a line written before the stop, and only under its first copy's id, which
    clients use to drop it.
    freeze-then-kill: SIGSTOP, lines go out on a link nobody reads, then SIGKILL; those lines
    were never acknowledged and must come again after the reconnect, once each."""
    alice, bob, prosody, causeway = stack
    reply = alice.register_form_submit(IRC_DOMAIN, {"nick": "alice_xmpp", "stay_connected": "1"})
    assert reply.type == "result", reply.describe()
    alice.send_message(BOB, "hello", receipt=False)
    bob.wait_for(lambda line: line.endswith("PRIVMSG bob_irc :hello"), "alice's first message")
    alice.presence(type_="unavailable")
    alice.close()

    middle = TOTAL // 2
    write_lines(bob, 1, middle)
    log_mark = causeway.log_mark()
    during = DURING
    if outage == "restart":
        prosody.stop()
        write_lines(bob, middle + 1, middle + during)
    else:
        prosody.freeze()
        write_lines(bob, middle + 1, middle + during)
        prosody.kill()
    prosody.start()
    causeway.wait_for_log("component link established", IRC_DOMAIN, timeout=30, since=log_mark)
    write_lines(bob, middle + during + 1, TOTAL)
    # A round trip through ngircd: every line above has reached causeway's IRC connection.
    bob.send("PING :all-written")
    bob.wait_for(lambda line: "all-written" in line, "the PONG after the last line")

    alice = connect_client(prosody, timeout=30)
    mark = alice.mark()
    alice.go_online()
    deadline = time.monotonic() + ARRIVAL_TIMEOUT
    while len(set(numbers(alice.find_all(numbered, mark)))) < TOTAL and time.monotonic() < deadline:
        alice.pump(0.2)
    alice.pump(SETTLE)
    elements = alice.find_all(numbered, mark)
    received = numbers(elements)

    counts = Counter(received)
    missing = [n for n in range(1, TOTAL + 1) if n not in counts]
    repeated = sorted(n for n, c in counts.items() if c > 1)
    firsts = list(dict.fromkeys(received))
    out_of_order = [(n, previous) for previous, n in zip(firsts, firsts[1:]) if n < previous]
    ids = defaultdict(set)
    for n, element in zip(received, elements):
        ids[n].add(element.get("id"))
    # A client drops a copy by its id: every copy of a repeated line must carry the same one.
    allowed = set(range(1, middle + 1)) if outage == "restart" else set()
    wrongly_repeated = [n for n in repeated if n not in allowed or len(ids[n]) > 1 or None in ids[n]]
    assert not missing and not wrongly_repeated and not out_of_order, (
        f"Prosody out ({outage}) from n {middle + 1} to n {middle + during}: {len(received)} lines received; "
        f"missing {missing[:30]}, repeated {repeated[:30]} (of which not allowed or under a new id "
        f"{wrongly_repeated[:30]}), out of order (n after m) {out_of_order[:10]}"
    )
