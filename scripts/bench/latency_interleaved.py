#!/usr/bin/python3
"""XMPP→IRC latency at a steady rate, with Causeway and biboumi measured in interleaved slices.

Measured in separate runs, a minute or more apart, each gateway's latency met a different
machine: its speed drifts over minutes, and Prosody's slow moments come in clusters, so one
round's ratio moved by ±30 % with no change to either gateway. Here both
gateways run at once on one Prosody and ngircd, and the latency run is cut into slices of a
second that alternate between them (in an order drawn at random, see interleaved_slices), under one capture:
both meet the same machine and the same Prosody, slice for slice. The figures are the same as
bench-irc's, on the wire (see wire_capture.py): end to end, and each hop. bench-irc's private
phase uses the same slices (irc_bench.interleaved_slices) among its other figures; this script
runs more rounds of them alone, and A/Bs of two builds.

Printed, not judged: it is the instrument for a change that should move latency, and it shows
how far apart the two really are. With --against, a second Causeway build takes biboumi's
place: an A/B of two builds under the same conditions, for changes too small to show across
separate runs. With --bursts, XMPP→IRC bursts alternate between the gateways in the same way
(Prosody, at a full core in a burst, sets the rate for both: alternating them gives both the
same Prosody). See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import irc_bench as bench  # noqa: E402
from wire_capture import Hops, WireCapture  # noqa: E402

FIGURES = (  # (label, hop, fraction)
    ("latency p50", "total", 0.50), ("latency p99", "total", 0.99),
    ("Prosody's hop p50", "server", 0.50), ("Prosody's hop p99", "server", 0.99),
    ("the gateway's hop p50", "gateway", 0.50), ("the gateway's hop p99", "gateway", 0.99),
    # Messages that reached the gateway alone in their packet, and those that came with others.
    ("  alone, p50", "gateway_alone", 0.50), ("  alone, p99", "gateway_alone", 0.99),
    ("  with others, p50", "gateway_together", 0.50), ("  with others, p99", "gateway_together", 0.99),
    ("ngircd's hop p50", "ircd", 0.50), ("ngircd's hop p99", "ircd", 0.99),
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=int, default=1000, help="messages/s while a gateway's slice runs (default 1000)")
    parser.add_argument("--slices", type=int, default=10, help="slices per gateway and round (default 10)")
    parser.add_argument("--slice-seconds", type=float, default=1.0, help="length of a slice (default 1 s)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds, each under its own capture (default 4)")
    parser.add_argument("--bursts", type=int, default=0,
                        help="after the rounds, this many XMPP→IRC bursts per gateway, alternating (default 0)")
    parser.add_argument("--burst-messages", type=int, default=20000, help="messages per burst (default 20000)")
    parser.add_argument("--keep", help="run in this directory and keep configs, logs and captures")
    parser.add_argument("--against", metavar="BINARY",
                        help="measure this causeway build in biboumi's place (as 'baseline'), against the one under test")
    args = parser.parse_args()
    if args.bursts < 0 or args.burst_messages < 1:
        parser.error("--bursts takes 0 or more, --burst-messages 1 or more")
    return args


async def run(args: argparse.Namespace, workdir: Path, started: list, causeway_bin: Path) -> None:
    prosody = bench.bench_prosody(workdir)
    prosody.add_user("pm", bench.PASSWORD)
    ngircd = bench.Ngircd(workdir / "ngircd")
    started.append(prosody)
    prosody.start()
    started.append(ngircd)
    ngircd.start()
    if args.against:
        # In biboumi's component slot, with a nick prefix of its own.
        baseline = bench.CausewayGateway(Path(args.against), workdir / "baseline", prosody, ngircd, "biboumi-secret",
                                         domain=bench.BIBOUMI_DOMAIN)
        baseline.name, baseline.tag = "baseline", "a"
    else:
        baseline = bench.BiboumiGateway(workdir / "biboumi", prosody, ngircd, "biboumi-secret")
    gateways = [bench.CausewayGateway(causeway_bin, workdir / "causeway", prosody, ngircd, "causeway-secret"), baseline]
    started.extend(gateways)
    [user] = await bench.connect_users(prosody, ["pm"])
    # As in bench-irc: Python's cyclic collector would pause the client mid-run.
    gc.collect()
    gc.freeze()
    gc.disable()
    peers: dict[str, bench.AsyncIrcClient] = {}
    try:
        await measure(args, workdir, prosody, ngircd, gateways, user, peers)
    finally:
        await asyncio.gather(user.close(), *(peer.close() for peer in peers.values()), return_exceptions=True)


async def measure(args: argparse.Namespace, workdir: Path, prosody: bench.Prosody, ngircd: bench.Ngircd,
                  gateways: list[bench.Gateway], user: bench.LeanXmpp, peers: dict[str, bench.AsyncIrcClient]) -> None:
    """Brings both gateways up with a peer each (into `peers`), then runs the rounds and reports."""
    for gw in gateways:
        gw.start()
        await gw.wait_ready(user, 60)
        await gw.prepare(user)
        peer = peers[gw.name] = await bench.AsyncIrcClient(ngircd.port, f"{gw.tag}peer").connect()
        await gw.open_private(user)
        arrived = peer.expect(lambda line: " :warm-up" in line)
        user.send_raw(user.message_xml(gw.contact(peer.nick), "warm-up", "w-0"))
        await peer.wait(arrived, f"the warm-up message through {gw.name}", 60)

    per_slice = int(args.rate * args.slice_seconds)
    results: dict[str, list[Hops]] = {gw.name: [] for gw in gateways}
    # Each gateway's CPU µs per message over each round's slices (its idle time in the other's
    # slices costs it next to nothing): what it spends on a message arriving cold, where the
    # bursts measure it warm. Counted to the nanosecond, it is steadier than the latency, though
    # what a cold message costs still moves with the machine from round to round; and CPU a
    # gateway spends while others wait is what the scheduler makes it wait for at its next wake-up.
    cpu: dict[str, list[float]] = {gw.name: [] for gw in gateways}
    for round_ in range(args.rounds):
        wire = WireCapture(workdir / f"latency-{round_}.pcap", prosody.c2s_port, prosody.component_port, ngircd.port)
        if not wire.start():
            raise RuntimeError(wire.problem)
        tags = {gw.name: f"i{gw.tag}{round_}" for gw in gateways}
        counters = {gw.name: bench.Counter(args.slices * per_slice) for gw in gateways}
        listeners = {}
        for gw in gateways:
            marker = f" :{tags[gw.name]} "
            counter = counters[gw.name]
            listeners[gw.name] = lambda line, marker=marker, counter=counter: counter.hit() if marker in line else None
            peers[gw.name].on_line.append(listeners[gw.name])
        cpu_before = {gw.name: bench.cpu_snapshot(gw.pid) for gw in gateways}
        try:
            await bench.interleaved_slices(user, gateways, args.slices, per_slice, args.rate, round_, {
                gw.name: lambda seq, target=gw.contact(peers[gw.name].nick), tag=tags[gw.name]: user.send_raw(
                    user.message_xml(target, f"{tag} {seq}", f"{tag}-{seq}"))
                for gw in gateways})
            await bench.wait_counters(list(counters.values()), "latency messages at the IRC peers", 60, 30)
            for gw in gateways:
                cpu[gw.name].append(bench.cpu_seconds_since(gw.pid, cpu_before[gw.name]) * 1e6 / (args.slices * per_slice))
        finally:
            for gw in gateways:
                peers[gw.name].on_line.remove(listeners[gw.name])
            await asyncio.to_thread(wire.stop, [(tags[gw.name], peers[gw.name].nick, args.slices * per_slice - 1) for gw in gateways])
        line = []
        for gw in gateways:
            hops = await asyncio.to_thread(wire.hops, tags[gw.name], peers[gw.name].nick)
            if hops.messages < 0.9 * args.slices * per_slice:
                raise RuntimeError(f"round {round_ + 1}: the capture saw {hops.messages} of {gw.name}'s "
                                   f"{args.slices * per_slice} messages at every hop ({wire.dropped()} packets dropped)")
            results[gw.name].append(hops)
            line.append(f"{gw.name} {hops.messages} messages, p50/p99 µs: end to end "
                        f"{bench.percentile(hops.total, .5):.0f}/{bench.percentile(hops.total, .99):.0f}, gateway "
                        f"{bench.percentile(hops.gateway, .5):.0f}/{bench.percentile(hops.gateway, .99):.0f}")
        bench.say(f"round {round_ + 1}: " + "; ".join(line))
        if not args.keep:
            wire.path.unlink(missing_ok=True)
    report(results, cpu, args)
    if args.bursts:
        report_bursts(await bursts(args, prosody, gateways, user, peers), args)


async def bursts(args: argparse.Namespace, prosody: bench.Prosody, gateways: list[bench.Gateway], user: bench.LeanXmpp,
                 peers: dict[str, bench.AsyncIrcClient]) -> dict[str, list[tuple[float, float, float]]]:
    """XMPP→IRC bursts as bench-irc's, alternating between the gateways (the order flips every
    pair): per gateway and burst, messages/s and the gateway's and Prosody's CPU µs per message."""
    n = args.burst_messages
    runs: dict[str, list[tuple[float, float, float]]] = {gw.name: [] for gw in gateways}
    for burst in range(args.bursts):
        for gw in bench.in_turn(gateways, burst):
            peer, tag = peers[gw.name], f"b{gw.tag}{burst}"
            target, counter, marker = gw.contact(peer.nick), bench.Counter(n), f" :{tag} "
            listener = lambda line: counter.hit() if marker in line else None  # noqa: E731
            peer.on_line.append(listener)
            try:
                elapsed, cpu, server = await bench.timed_burst_with_server(
                    gw.pid, prosody.proc.pid, lambda: bench.send_burst(user, target, tag, n), [counter],
                    f"burst messages at {gw.name}'s peer", 30)
            finally:
                peer.on_line.remove(listener)
            runs[gw.name].append((n / elapsed, cpu / n * 1e6, server / n * 1e6))
        bench.say(f"burst {burst + 1}: " + "; ".join(
            f"{name} {rate:.0f} msg/s ({cpu:.1f} µs; Prosody {server:.1f})" for name, [*_, (rate, cpu, server)] in runs.items()))
    return runs


def report_bursts(runs: dict[str, list[tuple[float, float, float]]], args: argparse.Namespace) -> None:
    bench.say(f"\n{args.bursts} XMPP→IRC bursts of {args.burst_messages} per gateway, alternating; the median of each "
              "and the fastest")
    [mine_name, other] = runs
    bench.say(f"{'figure':36}{mine_name:>10}{other:>10}{'ratio':>8}   ratio in each pair")
    for label, index, higher_is_better, pick, digits in (
            ("messages/s, median", 0, True, statistics.median, 0), ("messages/s, fastest", 0, True, max, 0),
            ("gateway CPU µs per message, median", 1, False, statistics.median, 1),
            ("Prosody CPU µs per message, median", 2, False, statistics.median, 1)):
        mine = [run[index] for run in runs[mine_name]]
        theirs = [run[index] for run in runs[other]]
        ratio = (lambda a, b: a / b) if higher_is_better else (lambda a, b: b / a)
        each = "  ".join(f"{ratio(a, b):.2f}" for a, b in zip(mine, theirs))
        bench.say(f"{label:36}{pick(mine):10.{digits}f}{pick(theirs):10.{digits}f}{ratio(pick(mine), pick(theirs)):8.2f}   {each}")
    bench.say(f"ratio: > 1 means {mine_name} is better (faster, or less CPU)")


def report(results: dict[str, list[Hops]], cpu: dict[str, list[float]], args: argparse.Namespace) -> None:
    bench.say(f"\n{args.rounds} rounds of {args.slices} slices of {args.slice_seconds:g} s per gateway at {args.rate}/s, "
              "interleaved; each figure is the median over the rounds, in µs")
    [mine_name, other] = results
    bench.say(f"{'figure':28}{mine_name:>10}{other:>10}{'ratio':>8}   ratio in each round")
    for label, hop, fraction in FIGURES:
        if not all(getattr(h, hop) for name in results for h in results[name]):
            # A split that some round never saw (no message came with others at a low rate).
            bench.say(f"{label:28}{'-':>10}{'-':>10}{'-':>8}   not seen in every round")
            continue
        mine = [bench.percentile(getattr(h, hop), fraction) for h in results[mine_name]]
        theirs = [bench.percentile(getattr(h, hop), fraction) for h in results[other]]
        each = "  ".join(f"{b / c:.2f}" for c, b in zip(mine, theirs))
        median_mine, median_theirs = statistics.median(mine), statistics.median(theirs)
        bench.say(f"{label:28}{median_mine:10.0f}{median_theirs:10.0f}{median_theirs / median_mine:8.2f}   {each}")
    mine, theirs = cpu[mine_name], cpu[other]
    each = "  ".join(f"{b / c:.2f}" for c, b in zip(mine, theirs))
    bench.say(f"{'CPU per message':28}{statistics.median(mine):10.1f}{statistics.median(theirs):10.1f}"
              f"{statistics.median(theirs) / statistics.median(mine):8.2f}   {each}")
    bench.say(f"ratio: > 1 means {mine_name} is quicker (or spends less CPU)")


def main() -> int:
    args = parse_args()
    causeway_bin = Path(os.environ.get("CAUSEWAY_BIN") or bench.ROOT / ".build-release" / "release" / "causeway")
    if args.against and not os.access(args.against, os.X_OK):
        bench.say(f"bench-latency: --against {args.against}: not an executable")
        return 1
    if not os.access(causeway_bin, os.X_OK) or (bench.biboumi_binary() is None and not args.against) \
            or WireCapture.why_unavailable():
        bench.say("bench-latency: needs the causeway release build (or CAUSEWAY_BIN), biboumi and tcpdump "
                  "(scripts/install-deps --with-biboumi)")
        return 1
    workdir = Path(args.keep).resolve() if args.keep else Path(tempfile.mkdtemp(prefix="bench-latency."))
    workdir.mkdir(parents=True, exist_ok=True)
    bench.say(bench.versions(causeway_bin))
    if args.against:
        bench.say(f"baseline (in biboumi's place): {Path(args.against).resolve()}")
    started: list = []
    status = 0
    try:
        asyncio.run(run(args, workdir, started, causeway_bin))
    except KeyboardInterrupt:
        status = 130
    except Exception as err:
        bench.say(f"\nbench-latency: failed: {err}")
        status = 1
    finally:
        bench.stop_started(started, "bench-latency")
        if not args.keep and status == 0:
            shutil.rmtree(workdir, ignore_errors=True)
        elif not args.keep:
            bench.say(f"logs kept in {workdir}")
    return status


if __name__ == "__main__":
    sys.exit(main())
