"""When each numbered message of a latency run crossed each hop, from the packets on loopback.

The bench's client measures latency from its own write to its own read. That includes its
own wake-ups: at a steady rate, the client (Python, one thread for every user and peer) reads
a line a few milliseconds late now and then, which made p99 the client's figure more than the
servers' (6-9 ms at the client against under 1.1 ms on the wire, for either gateway). tcpdump
timestamps each packet as the kernel sends it, so the same run gives:

    client → Prosody → gateway → ngircd → peer
             |  Prosody's  | the gateway's | ngircd's |
             |  hop        | hop           | hop      |

Every hop is from the packet that brought a message to a process to the packet that process
wrote it on with: its wake-up, its work and its wait for a CPU. The gateway's hop is the part of
the latency a gateway decides; the other two are the same servers for both gateways.

Needs tcpdump and the right to capture (root); without them ``WireCapture.start`` returns False
and the bench keeps the client's figures.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# pcap magic numbers, as read little-endian: microsecond and nanosecond timestamps.
PCAP_MICRO, PCAP_NANO = 0xA1B2C3D4, 0xA1B23C4D
LINKTYPE_HEADER = {0: 4, 1: 14, 113: 16}  # null (BSD loopback), Ethernet, Linux cooked


@dataclass
class Hops:
    """Per-message times in µs, one list per hop, over the messages seen at every hop."""

    server: list[float]
    gateway: list[float]
    ircd: list[float]
    total: list[float]
    # The gateway's hop of the messages that reached it alone in their packet, and of those that
    # came with others (a client writing on a timer often sends two at once): a gateway that
    # handles a read of several the slow way shows it here, against its own lone messages.
    gateway_alone: list[float]
    gateway_together: list[float]
    # Of those, the ones that came three or more to a packet: Prosody writes such reads after a
    # stall of its own (dozens at once), a few times a run, and their last messages wait for the
    # whole read's handling. There are about as many of them as the 1 % that p99 looks at, so
    # which gateway's slices met those stalls moves its p99.
    gateway_crowded: list[float]

    @property
    def messages(self) -> int:
        return len(self.total)


def packets(path: Path):
    """(time, source port, destination port, TCP payload) of each IPv4 TCP packet in a pcap."""
    data = path.read_bytes()
    if len(data) < 24:
        return
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic in (PCAP_MICRO, PCAP_NANO) else ">"
    magic = struct.unpack(order + "I", data[:4])[0]
    scale = 1e9 if magic == PCAP_NANO else 1e6
    skip = LINKTYPE_HEADER.get(struct.unpack(order + "I", data[20:24])[0], 14)
    offset = 24
    while offset + 16 <= len(data):
        seconds, fraction, captured, _ = struct.unpack(order + "IIII", data[offset:offset + 16])
        frame = data[offset + 16:offset + 16 + captured]
        offset += 16 + captured
        ip = frame[skip:]
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
            continue
        tcp = ip[(ip[0] & 15) * 4:]
        if len(tcp) < 20:
            continue
        source, destination = struct.unpack(">HH", tcp[:4])
        yield seconds + fraction / scale, source, destination, tcp[(tcp[12] >> 4) * 4:]


class WireCapture:
    """tcpdump on loopback around a latency run, for its hops (see the module's notes)."""

    def __init__(self, path: Path, c2s_port: int, component_port: int, irc_port: int):
        self.path = path
        self.c2s_port, self.component_port, self.irc_port = c2s_port, component_port, irc_port
        self.process: subprocess.Popen | None = None
        self.reader: threading.Thread | None = None
        self.stderr_lines: list[str] = []
        self.problem: str | None = None

    @staticmethod
    def why_unavailable() -> str | None:
        """Why a capture cannot run here, or None."""
        if shutil.which("tcpdump") is None:
            return "no tcpdump (scripts/install-deps --with-biboumi installs it)"
        return None

    def start(self, timeout: float = 10.0) -> bool:
        """Starts capturing; True once tcpdump listens. Only this run's servers' ports, and
        only packets with data (no bare ACKs), are kept."""
        ports = " or ".join(f"port {p}" for p in (self.c2s_port, self.component_port, self.irc_port))
        # Whole packets (`-s 0`): after a stall of Prosody's, a read of dozens of messages comes
        # in one packet of a few KB. Cut at 400 bytes, as until the twenty-second session, every
        # message past the cut was never seen, and p99 was taken without the very messages
        # that make it (1.5-2.5 % of a run's). The other packets are under 400 bytes anyway.
        self.process = subprocess.Popen(
            ["tcpdump", "-i", "lo", "-n", "-s", "0", "-B", "16384", "-U", "-w", str(self.path),
             f"tcp and ({ports}) and (((ip[2:2] - ((ip[0]&0xf)<<2)) - ((tcp[12]&0xf0)>>2)) != 0)"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        listening = threading.Event()
        stderr = self.process.stderr

        def read_stderr() -> None:
            for line in stderr:
                self.stderr_lines.append(line.strip())
                if "listening on" in line:
                    listening.set()

        self.reader = threading.Thread(target=read_stderr, daemon=True)
        self.reader.start()
        deadline = time.monotonic() + timeout
        while not listening.is_set() and self.process.poll() is None and time.monotonic() < deadline:
            listening.wait(0.05)
        if not listening.is_set():
            self.stop()
            self.problem = "tcpdump did not start: " + (" / ".join(self.stderr_lines[-2:]) or "no output")
            return False
        return True

    def stop(self, last: Iterable[tuple[str, str, int]] = (), timeout: float = 5.0) -> None:
        """Stops capturing, once the packets that brought each message in `last` (tag, IRC peer's
        nick, number) to its peer are in the file, `timeout` seconds at most.

        libpcap hands tcpdump its packets a block at a time, after up to a second (tcpdump's
        default buffer timeout; `--immediate-mode` would wake tcpdump for every packet, on the
        CPUs the gateways are measured on). Stopped at once when the last message arrived, a run
        lost the last 39-48 messages of a slice whenever it ended on one gateway's slice."""
        if self.process is None:
            return
        if last and self.process.poll() is None:
            self._wait_for([self._delivered(tag, nick, number) for tag, nick, number in last], timeout)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.reader is not None:
            self.reader.join(timeout=5)  # its closing report: packets dropped
        self.process = None

    @staticmethod
    def _delivered(tag: str, peer_nick: str, number: int) -> re.Pattern[bytes]:
        """The line ngircd writes the peer for message `<tag> <number>`: with the sender's prefix,
        unlike the gateway's line to ngircd."""
        return re.compile(rb"\S PRIVMSG " + re.escape(peer_nick.encode()) + rb" :" + re.escape(tag.encode())
                          + rb" " + str(number).encode() + rb"\r\n")

    def _wait_for(self, patterns: list[re.Pattern[bytes]], timeout: float) -> bool:
        """Reads the capture file as it grows until every pattern is in it; False on timeout."""
        deadline = time.monotonic() + timeout
        offset, tail = 0, b""
        while True:
            try:
                with self.path.open("rb") as file:
                    file.seek(offset)
                    grown = file.read()
            except FileNotFoundError:
                grown = b""
            offset += len(grown)
            window = tail + grown
            patterns = [pattern for pattern in patterns if not pattern.search(window)]
            if not patterns:
                return True
            if time.monotonic() >= deadline:
                return False
            tail = window[-1024:]  # a line cut between two reads
            time.sleep(0.05)

    def dropped(self) -> int:
        """Packets the kernel dropped before tcpdump read them (from its closing report)."""
        for line in self.stderr_lines:
            match = re.match(r"(\d+) packets? dropped by kernel", line)
            if match:
                return int(match.group(1))
        return 0

    def hops(self, tag: str, peer_nick: str) -> Hops:
        """Each hop's times for the messages `<tag> <n>` sent to `peer_nick`."""
        body = re.compile(rb"<body>" + re.escape(tag.encode()) + rb" (\d+)</body>")
        line = re.compile(rb"PRIVMSG " + re.escape(peer_nick.encode()) + rb" :" + re.escape(tag.encode()) + rb" (\d+)\r\n")
        sent: dict[int, float] = {}
        to_gateway: dict[int, float] = {}
        to_ircd: dict[int, float] = {}
        to_peer: dict[int, float] = {}
        company: dict[int, int] = {}  # how many messages came in the packet that brought each to the gateway
        for when, source, destination, payload in packets(self.path):
            if destination == self.c2s_port:
                seen, pattern = sent, body
            elif source == self.component_port:
                seen, pattern = to_gateway, body
            elif destination == self.irc_port:
                seen, pattern = to_ircd, line
            elif source == self.irc_port:
                seen, pattern = to_peer, line
            else:
                continue
            found = [int(match.group(1)) for match in pattern.finditer(payload)]
            for n in found:
                # The first time counts: TCP sends a lost segment again, later.
                if n not in seen and seen is to_gateway:
                    company[n] = len(found)
                seen.setdefault(n, when)
        numbers = sorted(sent.keys() & to_gateway.keys() & to_ircd.keys() & to_peer.keys())
        gateway = {n: (to_ircd[n] - to_gateway[n]) * 1e6 for n in numbers}
        return Hops(
            server=[(to_gateway[n] - sent[n]) * 1e6 for n in numbers],
            gateway=list(gateway.values()),
            ircd=[(to_peer[n] - to_ircd[n]) * 1e6 for n in numbers],
            total=[(to_peer[n] - sent[n]) * 1e6 for n in numbers],
            gateway_alone=[hop for n, hop in gateway.items() if company[n] == 1],
            gateway_together=[hop for n, hop in gateway.items() if company[n] > 1],
            gateway_crowded=[hop for n, hop in gateway.items() if company[n] > 2],
        )
