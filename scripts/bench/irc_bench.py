#!/usr/bin/python3
"""Side-by-side benchmark of Causeway's IRC bridge and biboumi (run through scripts/bench-irc).

One run starts a throwaway Prosody and ngircd (tests/e2e/harness), then measures each phase for
both gateways, each a component of that Prosody on its own domain, with the same XMPP users, the
same raw IRC peers and the same procedure: the private-message phase with both up at once,
alternating between them, the others in turn (the other one stopped). It prints one table:
each figure for causeway, for biboumi, and their ratio oriented so that > 1 means causeway is
better. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import os
import platform
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from harness.biboumi import Biboumi, biboumi_binary, biboumi_version  # noqa: E402
from harness.causeway import Bridge, Causeway  # noqa: E402
from harness.irc_async import AsyncIrcClient  # noqa: E402
from harness.lean_xmpp import NS_MUC, TAG_BODY, TAG_MESSAGE, TAG_PRESENCE, LeanXmpp, error_condition  # noqa: E402
from harness.ngircd import Ngircd  # noqa: E402
from harness.prosody import Component, Prosody  # noqa: E402
from wire_capture import Hops, WireCapture  # noqa: E402

IRC_SERVER = "127.0.0.1"  # the IRC server part of every JID: nick%127.0.0.1@gateway
CAUSEWAY_DOMAIN = "causeway.localhost"
BIBOUMI_DOMAIN = "biboumi.localhost"
CHANNEL = "#bench"
BUSY_CHANNEL = "#busy"
PASSWORD = "bench-password"


# ==== ADAPT HERE: Causeway's channel-history setting ==========================================
# The one place that knows how Causeway's configuration turns channel history (the per-user
# room archive) on and off: since commit 90b6730 it is `[history] enabled = true/false` in
# causeway.toml. "daemon" tables are merged into causeway.toml, "bridge" tables into the IRC
# bridge's bridge.toml. When `causeway check-config` rejects the result (an older build), the
# MUC runs use the build's default instead and their figures are marked "*" with the reason.
def causeway_history_config(history: bool) -> dict[str, dict[str, dict]]:
    return {
        "daemon": {"history": {"enabled": history}},
        "bridge": {},
    }
# ===============================================================================================


# --- small measurements ------------------------------------------------------------------------

def cpu_snapshot(pid: int) -> dict[int, int]:
    """The CPU time of each thread of a process in ns, from the scheduler's own accounting
    (/proc/PID/task/*/schedstat): exact to the nanosecond, where utime and stime in /proc/PID/stat
    count clock ticks of 10 ms. For ``cpu_seconds_since``."""
    threads: dict[int, int] = {}
    for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            threads[int(stat.parent.name)] = int(stat.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that has just ended
    return threads


def cpu_seconds_since(pid: int, before: dict[int, int]) -> float:
    """The CPU seconds the process spent since `before` (``cpu_snapshot``), thread by thread.
    A sum over the live threads at each end would lose all a thread ever ran when it ends in
    between: Swift's runtime retires idle pool threads, and a burst once came out at -0.2 µs per
    message. A thread that ends in between takes only what it ran since `before` with it, and
    the runtime retires threads that have been idle for seconds."""
    return sum(ns - before.get(tid, 0) for tid, ns in cpu_snapshot(pid).items()) / 1e9


def proc_status(pid: int, key: str) -> int:
    """A number from /proc/PID/status ("VmRSS" in KiB, "Threads")."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {key} for pid {pid}")


def rss_kib(pid: int) -> int:
    return proc_status(pid, "VmRSS")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


class Counter:
    """Counts arrivals towards `target`; remembers when the last one came."""

    def __init__(self, target: int):
        self.target = target
        self.count = 0
        self.last = 0.0

    def hit(self) -> None:
        self.count += 1
        self.last = time.monotonic()


class LatencyProbe:
    """Numbered messages `<tag> <n>` from the user to the IRC peer: when each was written, and
    how long after that the peer read it."""

    def __init__(self, peer: AsyncIrcClient, tag: str, total: int):
        self.tag, self.peer = tag, peer
        self.marker = f" PRIVMSG {peer.nick} :{tag} "
        self.sent: dict[int, float] = {}
        self.latencies: list[float] = []
        self.counter = Counter(total)

    def __enter__(self) -> LatencyProbe:
        self.peer.on_line.append(self.on_line)
        return self

    def __exit__(self, *_) -> None:
        self.peer.on_line.remove(self.on_line)

    def send(self, user: LeanXmpp, target: str, seq: int) -> None:
        user.send_raw(user.message_xml(target, f"{self.tag} {seq}", f"{self.tag}-{seq}"))
        self.sent[seq] = time.monotonic()

    def on_line(self, line: str) -> None:
        if self.marker in line:
            self.latencies.append(time.monotonic() - self.sent[int(line.rsplit(" ", 1)[1])])
            self.counter.hit()

    def ms(self, fraction: float) -> float:
        return percentile(self.latencies, fraction) * 1000


async def wait_counters(counters: list[Counter], what: str, timeout: float, stall: float) -> None:
    """Until every counter is done; fails after `timeout`, or when nothing arrives for `stall` s."""
    deadline = time.monotonic() + timeout
    seen, last_progress = -1, time.monotonic()
    while True:
        total = sum(c.count for c in counters)
        now = time.monotonic()
        if all(c.count >= c.target for c in counters):
            return
        if total != seen:
            seen, last_progress = total, now
        target = sum(c.target for c in counters)
        if now >= deadline:
            raise TimeoutError(f"{what}: {total}/{target} arrived within {timeout:g}s")
        if now - last_progress >= stall:
            raise TimeoutError(f"{what}: {total}/{target} arrived, then nothing for {stall:g}s")
        await asyncio.sleep(0.05)


async def timed_burst(pid: int, send: Callable[[], Awaitable[None]], counters: list[Counter], what: str, stall: float) -> tuple[float, float]:
    """Runs `send` and waits until every counter is full: the seconds from the first send to the
    last arrival, and the gateway's CPU seconds over the same span plus 1 s for what trails."""
    cpu0, t0 = cpu_snapshot(pid), time.monotonic()
    await send()
    await wait_counters(counters, what, burst_timeout(sum(c.target for c in counters)), stall)
    elapsed = max(c.last for c in counters) - t0
    await asyncio.sleep(1)
    return elapsed, cpu_seconds_since(pid, cpu0)


async def timed_burst_with_server(pid: int, server_pid: int, send: Callable[[], Awaitable[None]], counters: list[Counter],
                                  what: str, stall: float) -> tuple[float, float, float]:
    """``timed_burst``, plus the CPU seconds of `server_pid` (Prosody) over the same span: at a
    full core in a burst, Prosody sets the rate for either gateway (about 1 / its CPU per message)."""
    before = cpu_snapshot(server_pid)
    elapsed, cpu = await timed_burst(pid, send, counters, what, stall)
    return elapsed, cpu, cpu_seconds_since(server_pid, before)


async def send_burst(user: LeanXmpp, target: str, tag: str, count: int) -> None:
    """`count` chat messages `<tag> <i>` to `target`, written 200 at a time, as fast as they go."""
    for start in range(0, count, 200):
        user.send_raw("".join(user.message_xml(target, f"{tag} {i}", f"{tag}-{i}") for i in range(start, min(count, start + 200))))
        await user.drain()


async def send_on_ticks(user: LeanXmpp, count: int, rate: float, send_one: Callable[[int], None]) -> None:
    """Calls `send_one` with 0..<count at `rate` per second, writing what is due every 1 ms, as a
    client on a timer does (so at 1000/s some writes carry two messages)."""
    start, sent = time.monotonic(), 0
    while sent < count:
        due = min(count, int((time.monotonic() - start) * rate) + 1)
        while sent < due:
            send_one(sent)
            sent += 1
        await user.drain()
        await asyncio.sleep(0.001)


def burst_timeout(count: int, floor_rate: float = 50.0) -> float:
    """A generous bound for a burst: as if at least `floor_rate` arrived per second."""
    return max(60.0, count / floor_rate)


# --- results -------------------------------------------------------------------------------------


@dataclass
class Figure:
    key: str
    label: str
    unit: str
    higher_is_better: bool
    digits: int = 0
    beyond_goal: bool = False  # a figure the issue did not ask for: printed, not judged


FIGURES = [
    Figure("x2i_rate", "XMPP→IRC private messages/s", "msg/s", True),
    Figure("x2i_cpu", "XMPP→IRC gateway CPU per message", "µs", False, 1),
    Figure("i2x_rate", "IRC→XMPP private messages/s", "msg/s", True),
    Figure("i2x_cpu", "IRC→XMPP gateway CPU per message", "µs", False, 1),
    Figure("lat_p50", "XMPP→IRC latency p50 (steady rate)", "ms", False, 2),
    Figure("lat_p99", "XMPP→IRC latency p99 (steady rate)", "ms", False, 2),
    Figure("hop_p50", "XMPP→IRC latency p50, the gateway's hop", "µs", False, 0, beyond_goal=True),
    Figure("hop_p99", "XMPP→IRC latency p99, the gateway's hop", "µs", False, 0, beyond_goal=True),
    Figure("busy_p50", "XMPP→IRC latency p50, busy channel", "ms", False, 2, beyond_goal=True),
    Figure("muc_on", "MUC fan-out, history on", "deliveries/s", True),
    Figure("muc_off", "MUC fan-out, history off", "deliveries/s", True),
    Figure("rss_a", "RSS per IRC connection (first batch)", "KiB", False, 1),
    Figure("rss_b", "RSS per IRC connection (all users)", "KiB", False, 1),
    Figure("online", "time to bring all users online", "s", False, 2),
]


@dataclass
class Results:
    values: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # key -> "n/a (...)" or "error" instead of a value
    marks: dict[str, str] = field(default_factory=dict)  # key -> why its value carries a "*"
    extra: list[str] = field(default_factory=list)  # free-form lines printed under the table


# --- the gateways --------------------------------------------------------------------------------


class Gateway:
    """What differs between the two gateways; everything else is the same procedure."""

    name: str
    domain: str
    tag: str  # nick prefix: its users' IRC nicks never clash with the other gateway's

    def contact(self, nick: str) -> str:
        return f"{nick}%{IRC_SERVER}@{self.domain}"

    def room(self, channel: str) -> str:
        return f"{channel}%{IRC_SERVER}@{self.domain}"

    def nick(self, user: LeanXmpp) -> str:
        return self.tag + user.user

    # The process under test (a harness Causeway or Biboumi): both have the same controls.
    daemon: object

    @property
    def pid(self) -> int:
        return self.daemon.proc.pid

    def start(self) -> None:
        self.daemon.start()

    def stop(self) -> None:
        self.daemon.stop()

    def running(self) -> bool:
        return self.daemon.running

    def diagnostics(self) -> str:
        return self.daemon.diagnostics(30)

    async def prepare(self, user: LeanXmpp) -> None:
        """Once per user before measuring (registration, per-user settings)."""

    def go_online(self, user: LeanXmpp) -> None:
        """What makes the gateway consider the user online, if anything."""

    async def open_private(self, user: LeanXmpp) -> None:
        """Whatever must happen before the user's private messages can go through."""

    def start_connection(self, user: LeanXmpp, peer: str) -> None:
        """Send what makes the gateway open the user's IRC connection (without waiting); a
        message it sends goes to the IRC nick `peer`."""
        raise NotImplementedError

    async def use_history(self, history: bool, users: list[LeanXmpp]) -> str | None:
        """Restart with channel history on/off for these users. Returns a note when the
        setting could not be applied (the run then measures the default)."""
        raise NotImplementedError

    async def wait_ready(self, probe: LeanXmpp, timeout: float = 30.0) -> None:
        """Until the gateway answers disco#info on its domain (its component link is up)."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"{self.name} exited while starting\n{self.diagnostics()}")
            try:
                await probe.iq(self.domain, "<query xmlns='http://jabber.org/protocol/disco#info'/>", timeout=5)
                return
            except Exception as err:  # service-unavailable from Prosody until the link is up
                last = str(err)
            await asyncio.sleep(0.2)
        raise TimeoutError(f"{self.name} did not answer disco#info on {self.domain} within {timeout:g}s: {last}\n{self.diagnostics()}")

    async def restart(self, probe: LeanXmpp) -> None:
        self.stop()
        self.start()
        await self.wait_ready(probe)


class CausewayGateway(Gateway):
    name = "causeway"
    tag = "c"

    def __init__(self, binary: Path, workdir: Path, prosody: Prosody, ngircd: Ngircd, secret: str,
                 domain: str = CAUSEWAY_DOMAIN):
        self.domain = domain
        self.secret = secret
        self.ngircd = ngircd
        self.daemon = Causeway(binary, workdir, component_port=prosody.component_port, server_domain=prosody.domain,
                               host=prosody.host, bridges=[self._bridge({})], log_level="info")

    def _bridge(self, extra: dict[str, dict]) -> Bridge:
        tables: dict[str, dict] = {"irc": {"port": self.ngircd.port, "throttle": "off"}}
        for name, values in extra.items():
            tables.setdefault(name, {}).update(values)
        return Bridge("irc", self.domain, self.secret, kind="irc", tables=tables)

    def _configure(self, history: bool | None) -> None:
        config = causeway_history_config(history) if history is not None else {}
        self.daemon.bridges = [self._bridge(config.get("bridge", {}))]
        self.daemon.extra_tables = {name: dict(values) for name, values in config.get("daemon", {}).items()}
        self.daemon.write_config()

    async def prepare(self, user: LeanXmpp) -> None:
        await user.register(self.domain, {"nick": self.nick(user)})

    def go_online(self, user: LeanXmpp) -> None:
        # XEP-0100: the gateway logs the user in on available presence (directed here, as the
        # benchmark users never approve the gateway's subscription).
        user.presence(to=self.domain)

    async def open_private(self, user: LeanXmpp) -> None:
        self.go_online(user)  # the IRC connection opens with the first message

    def start_connection(self, user: LeanXmpp, peer: str) -> None:
        # Causeway connects to a server on the user's first message there.
        self.go_online(user)
        user.send_raw(user.message_xml(self.contact(peer), f"hello from {user.user}", f"h-{user.user}"))

    async def use_history(self, history: bool, users: list[LeanXmpp]) -> str | None:
        self.stop()
        self._configure(history)
        check = self.daemon.check_config()
        note = None
        if check.returncode != 0:
            lines = [line.strip() for line in (check.stdout + check.stderr).splitlines() if line.strip()]
            reason = next((line for line in lines if "history" in line), lines[0] if lines else f"status {check.returncode}")
            reason = reason.split("; known keys")[0][-160:]
            note = f"history setting not accepted by check-config ({reason}); measured with the build's default"
            self._configure(None)
        self.start()
        await self.wait_ready(users[0])
        return note


class BiboumiGateway(Gateway):
    name = "biboumi"
    tag = "b"

    def __init__(self, workdir: Path, prosody: Prosody, ngircd: Ngircd, secret: str):
        self.domain = BIBOUMI_DOMAIN
        self.ngircd = ngircd
        self.daemon = Biboumi(workdir, self.domain, secret, prosody.component_port, xmpp_host=prosody.host)

    async def prepare(self, user: LeanXmpp) -> None:
        # Per user and server (shared/TEST-SERVERS.md): no throttling, the ngircd port only
        # (no TLS ports, so it does not try 6697 and 6670 first), a fixed nick.
        await user.run_command(f"{IRC_SERVER}@{self.domain}", "configure", {
            "ports": [str(self.ngircd.port)],
            "tls_ports": [],
            "throttle_limit": "-1",
            "nick": self.nick(user),
        })

    def home(self, user: LeanXmpp) -> str:
        return f"{self.room('#home-' + self.nick(user))}/{self.nick(user)}"

    async def open_private(self, user: LeanXmpp) -> None:
        # biboumi opens an IRC connection only when the user joins a channel there; private
        # messages need that connection. So the user joins a channel of its own first.
        own = self.home(user)
        joined = user.expect(lambda el: el.tag == TAG_PRESENCE and el.get("from") == own)
        user.presence(to=own, inner=f"<x xmlns='{NS_MUC}'><history maxstanzas='0'/></x>")
        answer = await user.wait(joined, f"its own presence in {own}", 60)
        if answer.get("type") == "error":
            raise RuntimeError(f"joining {own} failed: {ET.tostring(answer, encoding='unicode')}")

    def start_connection(self, user: LeanXmpp, peer: str) -> None:
        # biboumi connects when the user joins a channel: each user joins a channel of its own.
        user.presence(to=self.home(user), inner=f"<x xmlns='{NS_MUC}'><history maxstanzas='0'/></x>")

    async def use_history(self, history: bool, users: list[LeanXmpp]) -> str | None:
        # record_history is a per-user global setting: the `configure` command on the domain.
        await asyncio.gather(*(u.run_command(self.domain, "configure", {
            "record_history": "true" if history else "false",
            "max_history_length": "20",
            "persistent": "false",
        }) for u in users))
        await self.restart(users[0])
        return None


# --- the environment -----------------------------------------------------------------------------


@dataclass
class Env:
    args: argparse.Namespace
    prosody: Prosody
    ngircd: Ngircd
    pm: LeanXmpp  # the one user of the private-message phases
    users: list[LeanXmpp]  # memory and online phases
    room_users: list[LeanXmpp]  # MUC phase
    workdir: Path
    # Why latency is measured at the client instead of on the wire (see wire_capture.py), or None.
    no_wire: str | None
    # Every child process, stopped at the end whatever happens (see main).
    started: list

    @property
    def everyone(self) -> list[LeanXmpp]:
        return [self.pm, *self.users, *self.room_users]


def say(text: str) -> None:
    print(text, flush=True)


async def in_batches(items, size: int, action: Callable) -> None:
    for start in range(0, len(items), size):
        await asyncio.gather(*(action(item) for item in items[start:start + size]))


async def connect_users(prosody: Prosody, names: list[str]) -> list[LeanXmpp]:
    clients = [LeanXmpp(prosody.host, prosody.c2s_port, f"{name}@{prosody.domain}", PASSWORD) for name in names]

    async def login(client: LeanXmpp) -> None:
        await client.connect()
        client.presence()  # initial presence, as any client: bare-JID messages reach this session

    await in_batches(clients, 50, login)
    return clients


async def irc_client(env: Env, nick: str) -> AsyncIrcClient:
    return await AsyncIrcClient(env.ngircd.port, nick).connect()


# --- the phases ----------------------------------------------------------------------------------


def in_turn(gateways: list[Gateway], index: int) -> list[Gateway]:
    """The gateways in the order of turn `index`: the order flips every turn, so neither one
    always goes first (meeting a Prosody that has just rested, or just worked)."""
    return gateways if index % 2 == 0 else gateways[::-1]


async def interleaved_slices(user: LeanXmpp, gateways: list[Gateway], slices: int, per_slice: int, rate: float,
                             first_turn: int, send_one: dict[str, Callable[[int], None]]) -> None:
    """A steady run of `slices` × `per_slice` messages per gateway at `rate`, cut into slices that
    alternate between the gateways (`send_one[name](seq)` sends one). Both gateways meet the same
    machine and the same Prosody, second by second: the machine's pace drifts over minutes, and
    separate runs of each moved one round's latency ratio by ±30 % with no change to either gateway.

    Which gateway goes first in each pair of slices is drawn at random, each order as often as the
    other (`first_turn` decides the odd one out), and the pause between slices varies. The order
    used to flip every pair: a pattern that repeats every four slices, about 4.3 s, and Prosody
    stalls for 30–40 ms about every 4.4 s. The two were in step for minutes, so the stalls fell
    in the same gateway's slices round after round and decided its p99 (twenty-third session)."""
    orders = [(slice_ + first_turn) % 2 for slice_ in range(slices)]
    random.shuffle(orders)
    for slice_, order in enumerate(orders):
        for gw in in_turn(gateways, order):
            send, first = send_one[gw.name], slice_ * per_slice
            await send_on_ticks(user, per_slice, rate, lambda i: send(first + i))
            # What is still in flight lands before the other gateway's slice starts.
            await asyncio.sleep(random.uniform(0.05, 0.15))


async def phase_private(gateways: list[Gateway], env: Env, results: dict[str, Results], round_: int) -> None:
    """Figures 1-3 with every gateway up at once, side by side on the same Prosody and ngircd:
    private-message bursts both ways, alternating between the gateways burst by burst, then
    latency at a steady rate in interleaved one-second slices under one capture.

    Prosody sits at a full core in an XMPP→IRC burst and sets the rate for either gateway, and
    its pace changes from one minute to the next; each gateway's figures taken in a turn of its
    own (the other stopped) compared two Prosodys. Alternating gives both the same one.
    `gateways` come in the round's order; within the phase the order flips every burst and slice."""
    args, user = env.args, env.pm
    peers: dict[str, AsyncIrcClient] = {}
    try:
        for gw in gateways:
            peer = peers[gw.name] = await irc_client(env, f"{gw.tag}peer")
            target, nick = gw.contact(peer.nick), gw.nick(user)
            await gw.open_private(user)
            # Warm-up: opens the user's IRC connection, both ways.
            arrived = peer.expect(lambda line, peer=peer: f" PRIVMSG {peer.nick} :warm-up" in line)
            user.send_raw(user.message_xml(target, "warm-up", "w-0"))
            await peer.wait(arrived, f"the warm-up message through {gw.name}", 60)
            back = user.expect(lambda el: el.tag == TAG_MESSAGE and el.findtext(TAG_BODY) == f"warm-up back {gw.name}")
            peer.send(f"PRIVMSG {nick} :warm-up back {gw.name}")
            await user.wait(back, f"the warm-up reply through {gw.name}", 60)

        # 1 and 2. Bursts each way, --repeat per gateway, alternating; the fastest run counts
        # (like scripts/bench-parser), which keeps other work on the machine out of the figures.
        n = args.messages

        async def xmpp_to_irc(gw: Gateway, run: int) -> tuple[float, float, float]:
            peer, tag = peers[gw.name], f"x{gw.tag}{run}"
            counter, marker = Counter(n), f" PRIVMSG {peer.nick} :{tag} "
            on_line = lambda line: counter.hit() if marker in line else None  # noqa: E731
            peer.on_line.append(on_line)
            try:
                return await timed_burst_with_server(gw.pid, env.prosody.proc.pid,
                                                     lambda: send_burst(user, gw.contact(peer.nick), tag, n),
                                                     [counter], f"XMPP→IRC messages at {gw.name}'s IRC peer", args.stall)
            finally:
                peer.on_line.remove(on_line)

        async def irc_to_xmpp(gw: Gateway, run: int) -> tuple[float, float, float]:
            peer, nick, prefix = peers[gw.name], gw.nick(user), f"y{gw.tag}{run} "
            counter = Counter(n)
            on_stanza = lambda el: counter.hit() if el.tag == TAG_MESSAGE and (el.findtext(TAG_BODY) or "").startswith(prefix) else None  # noqa: E731
            user.on_stanza.append(on_stanza)

            async def send() -> None:
                for start in range(0, n, 500):
                    peer.send_many([f"PRIVMSG {nick} :{prefix}{i}" for i in range(start, min(n, start + 500))])
                    await peer.drain()

            try:
                return await timed_burst_with_server(gw.pid, env.prosody.proc.pid, send, [counter],
                                                     f"IRC→XMPP messages from {gw.name} at the XMPP user", args.stall)
            finally:
                user.on_stanza.remove(on_stanza)

        for key, what, burst in (("x2i", "XMPP→IRC", xmpp_to_irc), ("i2x", "IRC→XMPP", irc_to_xmpp)):
            say(f"  {what}: {n} private messages, {args.repeat} run(s) per gateway, alternating")
            runs: dict[str, list[tuple[float, float, float]]] = {gw.name: [] for gw in gateways}
            for run in range(args.repeat):
                for gw in in_turn(gateways, run):
                    elapsed, cpu, server_cpu = await burst(gw, run)
                    runs[gw.name].append((elapsed, cpu, server_cpu))
                    say(f"    {gw.name}: {n / elapsed:.0f} msg/s, {cpu / n * 1e6:.1f} µs CPU/msg, Prosody {server_cpu / n * 1e6:.1f}")
            for gw in gateways:
                # Best of the runs for each figure on its own: the fastest run is not always the
                # one other work on the machine disturbed least.
                res, mine = results[gw.name], runs[gw.name]
                res.values[f"{key}_rate"] = n / min(e for e, _, _ in mine)
                res.values[f"{key}_cpu"] = min(c for _, c, _ in mine) / n * 1e6
                res.extra.append(f"{gw.name}: {what} runs: " + ", ".join(
                    f"{n / e:.0f} msg/s ({c / n * 1e6:.1f} µs; Prosody {p / n * 1e6:.1f})" for e, c, p in mine))

        # 3. Latency at a steady rate, in interleaved slices of about a second.
        slices = max(1, round(args.seconds))
        per_slice = max(1, int(args.rate * args.seconds / slices))
        total = slices * per_slice
        say(f"  latency: {total} messages per gateway at {args.rate}/s, in {slices} interleaved slices each")
        probes = {gw.name: LatencyProbe(peers[gw.name], f"l{gw.tag}{round_}", total) for gw in gateways}
        wire = await start_wire_capture(env)
        try:
            with contextlib.ExitStack() as listening:
                for probe in probes.values():
                    listening.enter_context(probe)
                await interleaved_slices(user, gateways, slices, per_slice, args.rate, 0, {
                    gw.name: lambda seq, probe=probes[gw.name], target=gw.contact(peers[gw.name].nick): probe.send(user, target, seq)
                    for gw in gateways})
                await wait_counters([probe.counter for probe in probes.values()], "latency messages at the IRC peers",
                                    60 + len(gateways) * args.seconds, args.stall)
        finally:
            if wire:
                await asyncio.to_thread(wire.stop, [(probe.tag, probe.peer.nick, total - 1) for probe in probes.values()])
        for gw in gateways:
            probe = probes[gw.name]
            hops = await asyncio.to_thread(wire.hops, probe.tag, probe.peer.nick) if wire else None
            record_latency(gw, results[gw.name], probe, wire, hops, total)
        if wire and not args.keep:
            wire.path.unlink(missing_ok=True)
    finally:
        await asyncio.gather(*(peer.close() for peer in peers.values()), return_exceptions=True)


def record_latency(gw: Gateway, res: Results, probe: LatencyProbe, wire: WireCapture | None, hops: Hops | None,
                   total: int) -> None:
    """The latency figures of one gateway's share of an interleaved run: on the wire when the
    capture saw (nearly) all of its messages, else at the client, marked."""
    res.extra.append(f"{gw.name}: latency at the client p50 {probe.ms(0.5):.2f} ms, p99 {probe.ms(0.99):.2f} ms, "
                     f"max {probe.ms(1.0):.1f} ms")
    if hops and hops.messages >= 0.9 * total:
        # The figures on the wire: the client's own wake-ups left out (see wire_capture.py).
        res.values["lat_p50"] = percentile(hops.total, 0.50) / 1000
        res.values["lat_p99"] = percentile(hops.total, 0.99) / 1000
        res.values["hop_p50"] = percentile(hops.gateway, 0.50)
        res.values["hop_p99"] = percentile(hops.gateway, 0.99)
        line = ", ".join(f"{name} {percentile(times, 0.5):.0f}/{percentile(times, 0.99):.0f}"
                         for name, times in (("Prosody", hops.server), ("gateway", hops.gateway), ("ngircd", hops.ircd)))
        alone, together = hops.gateway_alone, hops.gateway_together
        res.extra.append(f"{gw.name}: latency on the wire, {hops.messages} of {total} messages, p50/p99 µs per hop: {line}")
        if alone and together:
            crowded = hops.gateway_crowded
            res.extra.append(f"{gw.name}: the gateway's hop p50 of the {len(alone)} messages that came alone in their packet "
                             f"{percentile(alone, 0.5):.0f} µs, of the {len(together)} that came with others {percentile(together, 0.5):.0f} µs"
                             + (f" ({len(crowded)} three or more to a packet: {percentile(crowded, 0.5):.0f} µs)" if crowded else ""))
        say(f"    {gw.name} on the wire: p50 {res.values['lat_p50']:.2f} ms, p99 {res.values['lat_p99']:.2f} ms; "
            f"hops p50/p99 µs: {line}")
        return
    if wire:
        # The other gateway's figure may come from the wire: not comparable, and marked.
        seen = hops.messages if hops else 0
        for key in ("lat_p50", "lat_p99"):
            res.marks[key] = (f"at the client: the capture saw {seen} of {total} messages at every hop "
                              f"({wire.dropped()} packets dropped)")
    res.values["lat_p50"] = probe.ms(0.50)
    res.values["lat_p99"] = probe.ms(0.99)
    say(f"    {gw.name} at the client: p50 {probe.ms(0.5):.2f} ms, p99 {probe.ms(0.99):.2f} ms")


async def start_wire_capture(env: Env) -> WireCapture | None:
    """A running capture of the latency run's packets, or None (then latency is the client's)."""
    if env.no_wire:
        return None
    path = env.workdir / f"latency-{time.monotonic_ns()}.pcap"
    wire = WireCapture(path, env.prosody.c2s_port, env.prosody.component_port, env.ngircd.port)
    env.started.append(wire)  # stopped on Ctrl-C or SIGTERM too; stopping twice is harmless
    if await asyncio.to_thread(wire.start):
        return wire
    env.no_wire = wire.problem
    say(f"    {wire.problem}: latency at the client from now on")
    return None


async def phase_busy(gw: Gateway, env: Env, res: Results) -> None:
    """Beyond the issue's list: private-message latency while the user sits in a channel where
    someone talks every 20 ms, one message every --busy-interval ms (7).

    The server then talks to the user's connection all the time, and Linux delays its ACKs for
    such a connection: with Nagle on the gateway's socket, a message written while the previous
    one is unacknowledged waits for that ACK."""
    args, user = env.args, env.pm
    peer = await irc_client(env, f"{gw.tag}bpeer")
    chatter = await irc_client(env, f"{gw.tag}chat")
    room = gw.room(BUSY_CHANNEL)
    occupant = f"{room}/{gw.nick(user)}"
    talking = None
    try:
        target = gw.contact(peer.nick)
        await gw.open_private(user)
        arrived = peer.expect(lambda line: f" PRIVMSG {peer.nick} :busy warm-up" in line)
        user.send_raw(user.message_xml(target, "busy warm-up", "bw-0"))
        await peer.wait(arrived, "the warm-up message through the gateway", 60)
        joined = user.expect(lambda el: el.tag == TAG_PRESENCE and el.get("from") == occupant)
        user.presence(to=occupant, inner=f"<x xmlns='{NS_MUC}'><history maxstanzas='0'/></x>")
        answer = await user.wait(joined, f"its own presence in {room}", 60)
        if answer.get("type") == "error":
            raise RuntimeError(f"joining {room} failed: {ET.tostring(answer, encoding='unicode')[:300]}")
        in_channel = chatter.expect(lambda line: f" 366 {chatter.nick} {BUSY_CHANNEL} " in line)
        chatter.send(f"JOIN {BUSY_CHANNEL}")
        await chatter.wait(in_channel, f"joining {BUSY_CHANNEL}")

        async def talk() -> None:
            for i in itertools.count():
                chatter.send(f"PRIVMSG {BUSY_CHANNEL} :tick {i}")
                await asyncio.sleep(0.02)

        talking = asyncio.create_task(talk())
        # The user's client sees the channel's lines before it starts.
        await user.wait_for(lambda el: el.tag == TAG_MESSAGE and (el.findtext(TAG_BODY) or "").startswith("tick "),
                            "the first line of the busy channel", 30)
        total = args.busy_messages
        say(f"  busy channel: {total} private messages, one every {args.busy_interval:g} ms")
        with LatencyProbe(peer, "b", total) as probe:
            for i in range(total):
                probe.send(user, target, i)
                await user.drain()
                await asyncio.sleep(args.busy_interval / 1000)
            await wait_counters([probe.counter], "busy-channel messages at the IRC peer", 60, args.stall)
        res.values["busy_p50"] = probe.ms(0.50)
        say(f"    p50 {res.values['busy_p50']:.2f} ms, p90 {probe.ms(0.90):.2f} ms, max {probe.ms(1.0):.1f} ms")
    finally:
        if talking:
            talking.cancel()
        user.presence(to=occupant, type_="unavailable")
        await asyncio.gather(peer.close(), chatter.close())


async def bring_online(gw: Gateway, users: list[LeanXmpp], sink: AsyncIrcClient) -> None:
    """Each user does what opens its IRC connection with this gateway (for Causeway, a message to
    `sink`).

    The sink is never the client that polls LUSERS: ngircd's reply to a poll, written behind a
    message to the same client and not yet acknowledged, waited for the client's delayed ACK
    (Nagle): 40 ms on every figure of a gateway whose users send a message."""
    for user in users:
        gw.start_connection(user, sink.nick)
    await asyncio.gather(*(u.drain() for u in users))


async def phase_online(gw: Gateway, env: Env, res: Results) -> None:
    """Figure 6: from the users' presences until all their nicks are on the IRC server."""
    users = env.users
    await gw.restart(env.pm)
    watcher = await irc_client(env, f"{gw.tag}watch")
    sink = await irc_client(env, f"{gw.tag}sink")
    try:
        base = await watcher.lusers()
        say(f"  online: {len(users)} users; the IRC server counts {base} users")
        t0 = time.monotonic()
        await bring_online(gw, users, sink)
        # LUSERS every 5 ms: at the harness's default 50 ms the figure (about 0.2 s) moved by up to
        # a quarter with where the last poll fell, more than the gateways differ.
        visible = await watcher.wait_users(base + len(users), max(60, len(users) * 0.5), "users coming online",
                                           interval=0.005)
        res.values["online"] = visible - t0
        say(f"    all {len(users)} nicks on IRC after {visible - t0:.2f} s")
    finally:
        await asyncio.gather(watcher.close(), sink.close())


async def phase_memory(gw: Gateway, env: Env, res: Results) -> None:
    """Figure 5: RSS before and after a first batch and then all users have one IRC connection."""
    users, first = env.users, env.args.first_batch
    await gw.restart(env.pm)
    watcher = await irc_client(env, f"{gw.tag}mem")
    sink = await irc_client(env, f"{gw.tag}msink")
    try:
        base = await watcher.lusers()
        await asyncio.sleep(env.args.settle)
        rss0, threads0 = rss_kib(gw.pid), proc_status(gw.pid, "Threads")
        say(f"  memory: RSS {rss0} KiB, {threads0} threads with no IRC connection")
        points = []
        for begin, end, key in ((0, first, "rss_a"), (first, len(users), "rss_b")):
            await bring_online(gw, users[begin:end], sink)
            await watcher.wait_users(base + end, max(60, end * 0.5), f"{end} users' IRC connections")
            await asyncio.sleep(env.args.settle)
            rss, threads = rss_kib(gw.pid), proc_status(gw.pid, "Threads")
            points.append((end, rss, threads))
            res.values[key] = (rss - rss0) / end
            say(f"    {end} connections: RSS {rss} KiB, {threads} threads, {(rss - rss0) / end:.1f} KiB per connection")
        res.extra.append(f"{gw.name}: RSS {rss0} KiB ({threads0} threads) idle, "
                         + ", ".join(f"{rss} KiB ({threads} threads) with {n} connections" for n, rss, threads in points))
    finally:
        await asyncio.gather(watcher.close(), sink.close())


async def phase_muc(gw: Gateway, env: Env, res: Results, history: bool) -> None:
    """Figure 4: one IRC client speaks in a channel, every XMPP occupant must get every line."""
    key = "muc_on" if history else "muc_off"
    users, n = env.room_users, env.args.muc_messages
    say(f"  MUC fan-out, history {'on' if history else 'off'}: {len(users)} occupants, {n} channel messages")
    note = await gw.use_history(history, users)
    if note:
        say(f"    note: {note}")
    room = gw.room(CHANNEL)
    sender = await irc_client(env, f"{gw.tag}say{int(history)}")
    try:
        joined = sender.expect(lambda line: f" 366 {sender.nick} {CHANNEL} " in line)
        sender.send(f"JOIN {CHANNEL}")
        await sender.wait(joined, f"joining {CHANNEL}")
        nicks = {gw.nick(u).lower() for u in users}
        on_irc: set[str] = set()
        all_on_irc = asyncio.Event()

        def on_join(line: str) -> None:
            parts = line.split(" ", 2)
            if len(parts) >= 3 and parts[1] == "JOIN":
                who = parts[0][1:].split("!", 1)[0].lower()
                if who in nicks:
                    on_irc.add(who)
                    if len(on_irc) == len(nicks):
                        all_on_irc.set()

        sender.on_line.append(on_join)
        # Join: presence to room/nick (no history wanted on join).
        selves = []
        for user in users:
            gw.go_online(user)
            occupant = f"{room}/{gw.nick(user)}"
            selves.append(user.expect(lambda el, occupant=occupant: el.tag == TAG_PRESENCE and el.get("from") == occupant))
            user.presence(to=occupant, inner=f"<x xmlns='{NS_MUC}'><history maxstanzas='0'/></x>")
        try:
            answers = await asyncio.gather(*(u.wait(f, f"its own presence in {room}", 60) for u, f in zip(users, selves)))
        except TimeoutError as err:
            res.notes[key] = "n/a (not supported: no self-presence from the room)"
            say(f"    n/a: {err}")
            return
        refused = [a for a in answers if a.get("type") == "error"]
        if refused:
            res.notes[key] = f"n/a (not supported: joining gives {error_condition(refused[0])})"
            say(f"    n/a: {ET.tostring(refused[0], encoding='unicode')[:300]}")
            return
        try:
            await asyncio.wait_for(all_on_irc.wait(), 60)
        except asyncio.TimeoutError:
            raise TimeoutError(f"only {len(on_irc)}/{len(nicks)} occupants' nicks joined {CHANNEL} on IRC") from None

        async def one_round(round_: int) -> tuple[float, float]:
            """Sends n lines and waits until every occupant has them all: (seconds, CPU seconds)."""
            prefix = f"m{int(history)}.{round_} "
            counters = []
            received: list[set[str]] = []
            for user in users:
                counter = Counter(n)
                got: set[str] = set()

                def on_groupchat(el, c=counter, got=got) -> None:
                    body = el.findtext(TAG_BODY) or ""
                    if el.tag == TAG_MESSAGE and el.get("type") == "groupchat" and body.startswith(prefix):
                        got.add(body)
                        c.hit()

                user.on_stanza.append(on_groupchat)
                counters.append(counter)
                received.append(got)
            async def send() -> None:
                for start in range(0, n, 100):
                    sender.send_many([f"PRIVMSG {CHANNEL} :{prefix}{i}" for i in range(start, min(n, start + 100))])
                    await sender.drain()

            try:
                elapsed, cpu = await timed_burst(gw.pid, send, counters, f"channel messages at {len(users)} occupants", env.args.stall)
            except TimeoutError as err:
                # Who misses what: one occupant missing a run of lines points at its IRC connection.
                short = []
                for user, got in zip(users, received):
                    missing = [i for i in range(n) if f"{prefix}{i}" not in got]
                    if missing:
                        short.append(f"{gw.nick(user)} misses {len(missing)} (first {missing[:5]}, last {missing[-1]})")
                raise TimeoutError(f"{err}; " + "; ".join(short[:10])) from None
            for user in users:
                user.on_stanza.clear()
            return elapsed, cpu

        # Prosody's own pace varies from run to run (it is at a full core in this phase), so the
        # fastest of --muc-repeat rounds counts, as for the private bursts.
        deliveries = n * len(users)
        rounds = []
        # History off, both gateways deliver faster than Prosody does, so the figure is Prosody's
        # pace, which varied by ±15 % between runs: more (cheap) rounds let both reach it.
        for round_ in range(env.args.muc_repeat if history else env.args.muc_off_repeat):
            elapsed, cpu = await one_round(round_)
            rounds.append((elapsed, cpu))
            say(f"    {deliveries / elapsed:.0f} deliveries/s ({n / elapsed:.1f} channel messages/s to all), "
                f"{cpu / deliveries * 1e6:.1f} µs CPU per delivery")
        elapsed, cpu = min(rounds)
        res.values[key] = deliveries / elapsed
        if note:
            res.marks[key] = note
        res.extra.append(f"{gw.name}: MUC history {'on' if history else 'off'}: {n} channel messages to {len(users)} occupants in "
                         f"{elapsed:.2f} s = {n / elapsed:.1f} channel messages/s, {cpu / deliveries * 1e6:.1f} µs CPU per delivery"
                         + (f" (fastest of {len(rounds)} rounds)" if len(rounds) > 1 else ""))
    finally:
        await sender.close()
        for user in users:
            user.on_stanza.clear()
            try:
                user.presence(to=f"{room}/{gw.nick(user)}", type_="unavailable")
            except Exception:
                pass


async def run_phases(gateways: list[Gateway], env: Env) -> dict[str, list[Results]]:
    """Every phase for every gateway, `--rounds` times; one Results per gateway and round.

    The private phase runs with all gateways up at once, alternating between them within the
    phase (see phase_private). The others run each gateway in turn, the other one stopped, as
    they measure a process's own memory and time; which one goes first alternates from phase to
    phase and flips each round. The machine's speed drifts over minutes (shared with other work):
    running all of one gateway's phases and then all of the other's compared figures taken up to
    ten minutes apart; pairing each phase keeps the two within a minute or two of each other."""
    rounds = {gw.name: [Results() for _ in range(env.args.rounds)] for gw in gateways}
    prepared: set[str] = set()
    selected = [(name, keys, run) for name, keys, run in PHASES if name in env.args.phases]
    for round_ in range(env.args.rounds):
        if env.args.rounds > 1:
            say(f"\n==== round {round_ + 1} of {env.args.rounds}")
        for index, (name, keys, run) in enumerate(selected):
            order = in_turn(gateways, index + round_)
            results = {gw.name: rounds[gw.name][round_] for gw in gateways}
            if name in SIDE_BY_SIDE:
                say(f"\n== {' and '.join(gw.name for gw in order)}{' side by side' if len(order) > 1 else ''}: {name}")
                try:
                    for gw in order:
                        await bring_up(gw, env, prepared)
                    await run(order, env, results, round_)
                except Exception as err:
                    for gw in order:
                        phase_failed(gw, name, keys, results[gw.name], err)
                finally:
                    for gw in order:
                        gw.stop()
                continue
            for gw in order:
                say(f"\n== {gw.name} ({gw.domain}): {name}")
                try:
                    await bring_up(gw, env, prepared)
                    await run(gw, env, results[gw.name])
                except Exception as err:
                    phase_failed(gw, name, keys, results[gw.name], err)
                finally:
                    gw.stop()
    return rounds


async def bring_up(gw: Gateway, env: Env, prepared: set[str]) -> None:
    """Starts the gateway and waits for its link; prepares every user the first time."""
    gw.start()
    await gw.wait_ready(env.pm)
    if gw.name not in prepared:
        say(f"  preparing {len(env.everyone)} users for {gw.name}")
        await in_batches(env.everyone, 25, gw.prepare)
        prepared.add(gw.name)


def phase_failed(gw: Gateway, phase: str, keys: list[str], res: Results, err: Exception) -> None:
    """Marks what the failed phase did not measure as "error", with the reason under the table."""
    say(f"    FAILED ({gw.name}): {err}")
    for key in keys:
        if key not in res.values and key not in res.notes:
            res.notes[key] = "error"
    res.extra.append(f"{gw.name}: {phase} failed: {str(err).splitlines()[0][:300]}")


def combine(rounds: list[Results]) -> Results:
    """One Results from several rounds: each figure the median of the rounds that measured it.

    A median, not a best: a round the machine disturbed moves it less than a mean, and unlike a
    best it does not reward the gateway whose figure happens to swing more."""
    if len(rounds) == 1:
        return rounds[0]
    combined = Results()
    for fig in FIGURES:
        measured = [r.values[fig.key] for r in rounds if fig.key in r.values]
        if measured:
            combined.values[fig.key] = statistics.median(measured)
        else:
            note = next((r.notes[fig.key] for r in rounds if fig.key in r.notes), None)
            if note:
                combined.notes[fig.key] = note
        mark = next((r.marks[fig.key] for r in rounds if fig.key in r.marks), None)
        if mark:
            combined.marks[fig.key] = mark
    for number, r in enumerate(rounds, 1):
        combined.extra.extend(f"round {number}, {line}" for line in r.extra)
    return combined


def ratio_of(fig: Figure, a: float | None, b: float | None) -> float | None:
    """Causeway's figure against biboumi's, > 1 when causeway's is better."""
    if a is None or b is None:
        return None
    if fig.higher_is_better:
        return a / b if b > 0 else None
    return b / a if a > 0 else (float("inf") if b > 0 else None)


PHASES = (
    ("private", ["x2i_rate", "x2i_cpu", "i2x_rate", "i2x_cpu", "lat_p50", "lat_p99", "hop_p50", "hop_p99"], phase_private),
    ("busy", ["busy_p50"], phase_busy),
    ("online", ["online"], phase_online),
    ("memory", ["rss_a", "rss_b"], phase_memory),
    ("muc-on", ["muc_on"], lambda gw, env, res: phase_muc(gw, env, res, True)),
    ("muc-off", ["muc_off"], lambda gw, env, res: phase_muc(gw, env, res, False)),
)
ALL_PHASES = tuple(name for name, _, _ in PHASES)
# Phases run with every gateway up at once (their function takes all of them, the results of
# each and the round): those whose figures Prosody's pace sets.
SIDE_BY_SIDE = {"private"}


# --- the report ----------------------------------------------------------------------------------


def fmt(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def report(env: Env, rounds: dict[str, list[Results]]) -> None:
    results = {name: combine(each) for name, each in rounds.items()}
    cw, bb = results.get("causeway", Results()), results.get("biboumi", Results())
    args = env.args
    say("\n== results")
    say(f"sizes: {args.messages} private messages per burst; latency {args.rate}/s for {args.seconds:g} s; "
        f"MUC {len(env.room_users)} occupants x {args.muc_messages} messages; memory {args.first_batch} then {len(env.users)} users; "
        f"online {len(env.users)} users")
    if args.rounds > 1:
        say(f"each figure is the median of {args.rounds} rounds; the ratio is that of the medians")
    if "private" in args.phases:
        say("latency: on the wire (tcpdump on loopback, from the client's packet to the IRC peer's; scripts/bench/wire_capture.py)"
            if not env.no_wire else f"latency: at the client ({env.no_wire})")
    header = f"{'figure':<42} {'unit':<13} {'causeway':>14} {'biboumi':>14} {'ratio':>8}"
    say(header)
    say("-" * len(header))
    behind: list[str] = []  # below the goal in every round
    even: list[str] = []  # below the goal as a median, at or above it in some round
    for fig in FIGURES:
        a, b = cw.values.get(fig.key), bb.values.get(fig.key)
        cell_a = cw.notes.get(fig.key) or fmt(a, fig.digits) + ("*" if fig.key in cw.marks else "")
        cell_b = bb.notes.get(fig.key) or fmt(b, fig.digits) + ("*" if fig.key in bb.marks else "")
        ratio = ratio_of(fig, a, b)
        label = fig.label.replace("all users", f"{len(env.users)} users").replace("first batch", f"{args.first_batch} users")
        if fig.key.startswith("muc"):
            label += f" ({len(env.room_users)} occ.)"
        if fig.key.startswith("lat"):
            label = label.replace("steady rate", f"{args.rate}/s")
        if fig.beyond_goal:
            label += " (+)"
        ratio_text = "-" if ratio is None else ("inf" if ratio == float("inf") else f"{ratio:.2f}")
        say(f"{label:<42} {fig.unit:<13} {cell_a[:14]:>14} {cell_b[:14]:>14} {ratio_text:>8}")
        needed = 10.0 if fig.key == "muc_on" else 1.0
        if fig.beyond_goal:
            continue
        per_round = ratios_by_round(fig, rounds)
        if ratio is None:
            behind.append(f"{fig.label}: no ratio")
        elif fig.key in cw.marks or fig.key in bb.marks:
            behind.append(f"{fig.label}: {ratio:.2f}, but measured without the intended setting (*)")
        elif ratio < needed and any(r is not None and r >= needed for r in per_round):
            even.append(f"{fig.label}: {ratio:.2f}, by round " + " ".join(f"{r:.2f}" for r in per_round if r is not None))
        elif ratio < needed:
            behind.append(f"{fig.label}: {ratio:.2f} < {needed:g}")
    for name, r in results.items():
        for fig in FIGURES:
            if len(r.notes.get(fig.key, "")) > 14:
                say(f"  {name}, {fig.label}: {r.notes[fig.key]}")
            if fig.key in r.marks:
                say(f"  * {name}, {fig.label}: {r.marks[fig.key]}")
    if args.rounds > 1 and len(rounds) == 2:
        say("\nratio in each round (the spread says how far one run's verdict can be trusted):")
        for fig in FIGURES:
            per_round = ratios_by_round(fig, rounds)
            if any(r is not None for r in per_round):
                say(f"  {fig.label:<42} " + "  ".join("-" if r is None else f"{r:.2f}" for r in per_round))
    say("")
    for line in cw.extra + bb.extra:
        say(f"  {line}")
    say("\nratio: > 1 means causeway is better (higher rate, or less CPU, latency, memory, time)")
    say("(+): beyond the issue's list of figures; printed, not part of the goal")
    goal = "goal (every ratio >= 1, MUC fan-out with history on >= 10)"
    if behind:
        say(f"{goal}: NOT met")
        for line in behind:
            say(f"  - {line}")
    elif even:
        say(f"{goal}: met within this run's resolution")
    else:
        say(f"{goal}: met")
    if even:
        say("even (below the goal as a median of the rounds, at or above it in at least one round: "
            "the rounds disagree, so the run cannot tell the gateways apart on it):")
        for line in even:
            say(f"  - {line}")


def ratios_by_round(fig: Figure, rounds: dict[str, list[Results]]) -> list[float | None]:
    """The figure's ratio in each round (empty unless both gateways were measured)."""
    if set(rounds) != {"causeway", "biboumi"}:
        return []
    return [ratio_of(fig, c.values.get(fig.key), b.values.get(fig.key))
            for c, b in zip(rounds["causeway"], rounds["biboumi"])]


# --- main ----------------------------------------------------------------------------------------


def versions(causeway_bin: Path) -> str:
    def run(cmd: list[str]) -> str:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except Exception:
            return "unknown"

    def dpkg(name: str) -> str:
        return run(["dpkg-query", "-W", "-f=${Version}", name])

    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    commit = run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"])
    return (f"machine: {os.cpu_count()} cores, {cpu}, {platform.system()} {platform.release()} {platform.machine()}\n"
            f"versions: causeway {run([str(causeway_bin), '--version'])} (source tree now {commit}; {causeway_bin}), biboumi {biboumi_version()}, "
            f"prosody {dpkg('prosody')}, ngircd {dpkg('ngircd')}, python {platform.python_version()}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench-irc", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to try it in under a minute")
    parser.add_argument("--messages", type=int, help="private messages per burst, each way (default 20000; quick 2000)")
    parser.add_argument("--rate", type=int, help="messages/s for the latency run (default 1000; quick 500)")
    parser.add_argument("--seconds", type=float, help="length of the latency run (default 10; quick 3)")
    parser.add_argument("--busy-messages", type=int, help="private messages of the busy-channel latency run (default 300; quick 100)")
    parser.add_argument("--busy-interval", type=float, default=7.0, help="milliseconds between them (default 7)")
    parser.add_argument("--muc-users", type=int, help="XMPP occupants of the channel (default 50; quick 10)")
    parser.add_argument("--muc-messages", type=int, help="channel messages sent from IRC per MUC run (default 1000; quick 50)")
    parser.add_argument("--users", type=int, help="users for the memory and online figures (default 300; quick 30)")
    parser.add_argument("--first-batch", type=int, help="users in the first memory step (default a third of --users)")
    parser.add_argument("--repeat", type=int, help="runs of each private-message burst; the fastest counts (default 3; quick 1)")
    parser.add_argument("--muc-repeat", type=int, help="rounds of channel messages per MUC phase; the fastest counts (default 2; quick 1)")
    parser.add_argument("--muc-off-repeat", type=int, help="rounds for the MUC phase with history off (default 4; quick 1)")
    parser.add_argument("--rounds", type=int, help="times to run every phase for both gateways; each figure is the median "
                        "(default 3; quick 1)")
    parser.add_argument("--phases", type=lambda text: set(text.split(",")), default=set(ALL_PHASES),
                        help="comma-separated subset of " + ",".join(ALL_PHASES) + " (default all)")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds to wait before reading RSS (default 2)")
    parser.add_argument("--stall", type=float, default=60.0, help="fail a burst when nothing arrives for this long (default 60 s)")
    parser.add_argument("--no-wire", action="store_true", help="measure latency at the client only, without tcpdump "
                        "(default: on the wire when tcpdump runs, see scripts/bench/wire_capture.py)")
    parser.add_argument("--only", choices=["causeway", "biboumi"], help="measure one gateway only")
    parser.add_argument("--keep", metavar="DIR", help="run in DIR and keep it (logs, configs) instead of a temporary directory")
    args = parser.parse_args()
    quick = args.quick
    defaults = {"messages": (20000, 2000), "rate": (1000, 500), "seconds": (10.0, 3.0), "busy_messages": (300, 100), "muc_users": (50, 10),
                "muc_messages": (1000, 50), "users": (300, 30), "repeat": (3, 1), "rounds": (3, 1), "muc_repeat": (2, 1), "muc_off_repeat": (4, 1)}
    for name, (full, small) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, small if quick else full)
    if args.first_batch is None:
        args.first_batch = max(1, args.users // 3)
    if min(args.repeat, args.rounds, args.muc_repeat, args.muc_off_repeat) < 1:
        parser.error("--repeat, --rounds, --muc-repeat and --muc-off-repeat must be at least 1")
    if not args.phases <= set(ALL_PHASES):
        parser.error("--phases takes " + ",".join(ALL_PHASES))
    if not 0 < args.first_batch <= args.users:
        parser.error("--first-batch must be between 1 and --users")
    return args


def bench_prosody(workdir: Path) -> Prosody:
    """The Prosody both gateways are measured on, each a component on its own domain."""
    return Prosody(workdir / "prosody", components=[Component(CAUSEWAY_DOMAIN, "causeway-secret"),
                                                    Component(BIBOUMI_DOMAIN, "biboumi-secret")], log_level="warn",
                   # Prosody's default Nagle plus delayed ACKs held messages back ~40 ms (both gateways
                   # alike): p99 latency measured the TCP stacks, not the gateways.
                   extra_config="network_settings = { nagle = false }\ngc = { mode = \"generational\" }\n")


async def bench(args: argparse.Namespace, workdir: Path, started: list, causeway_bin: Path) -> None:
    names = ["pm", *(f"u{i:03d}" for i in range(1, args.users + 1)), *(f"r{i:02d}" for i in range(1, args.muc_users + 1))]
    prosody = bench_prosody(workdir)
    for name in names:
        prosody.add_user(name, PASSWORD)
    ngircd = Ngircd(workdir / "ngircd")
    say("== starting Prosody and ngircd")
    started.append(prosody)
    prosody.start()
    started.append(ngircd)
    ngircd.start()
    say(f"  Prosody c2s {prosody.c2s_port}, components {prosody.component_port}; ngircd {ngircd.port}")

    gateways: list[Gateway] = []
    if args.only in (None, "causeway"):
        gateways.append(CausewayGateway(causeway_bin, workdir / "causeway", prosody, ngircd, "causeway-secret"))
    if args.only in (None, "biboumi"):
        gateways.append(BiboumiGateway(workdir / "biboumi", prosody, ngircd, "biboumi-secret"))
    started.extend(gateways)

    say(f"== connecting {len(names)} XMPP users")
    clients = await connect_users(prosody, names)
    # Python's cyclic collector, walking hundreds of sessions' objects, paused this process (and
    # so the timestamps of the latency run) for tens of milliseconds; nothing here needs it.
    gc.collect()
    gc.freeze()
    gc.disable()
    no_wire = "--no-wire" if args.no_wire else WireCapture.why_unavailable()
    env = Env(args, prosody, ngircd, clients[0], clients[1:1 + args.users], clients[1 + args.users:], workdir, no_wire, started)
    try:
        results = await run_phases(gateways, env)
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    report(env, results)


def stop_started(started: list, program: str) -> None:
    """Stops every child in `started`, last started first; a failure is reported, not raised."""
    for thing in reversed(started):
        try:
            thing.stop()
        except Exception as err:
            say(f"{program}: stopping {type(thing).__name__}: {err}")


def main() -> int:
    args = parse_args()
    causeway_bin = Path(os.environ.get("CAUSEWAY_BIN") or ROOT / ".build-release" / "release" / "causeway")
    if args.only != "biboumi" and not os.access(causeway_bin, os.X_OK):
        say(f"bench-irc: no causeway binary at {causeway_bin} (build it, or set CAUSEWAY_BIN)")
        return 1
    if args.only != "causeway" and biboumi_binary() is None:
        say("bench-irc: biboumi is not installed; install it with `scripts/install-deps --with-biboumi` "
            "(or apt-get install -y biboumi), or run with --only causeway")
        return 1
    # Hundreds of sockets in this process and in the servers (children inherit the limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))

    # SIGTERM ends the run like Ctrl-C does: through the `finally` below, which stops every child.
    def interrupted(*_) -> None:
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, interrupted)
    if args.keep:
        workdir = Path(args.keep).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        workdir = Path(tempfile.mkdtemp(prefix="bench-irc."))
    say(versions(causeway_bin))
    say(f"work directory: {workdir}")
    started: list = []
    status = 0
    try:
        asyncio.run(bench(args, workdir, started, causeway_bin))
    except KeyboardInterrupt:
        say("\nbench-irc: interrupted")
        status = 130
    except Exception as err:
        say(f"\nbench-irc: failed: {err}")
        status = 1
    finally:
        stop_started(started, "bench-irc")
        if not args.keep and status == 0:
            shutil.rmtree(workdir, ignore_errors=True)
        elif not args.keep:
            say(f"logs kept in {workdir}")
    return status


if __name__ == "__main__":
    sys.exit(main())
