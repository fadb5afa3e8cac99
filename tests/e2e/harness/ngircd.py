"""A throwaway ngircd (Debian's 26) on a free loopback port, and a raw IRC client for tests.

Settings from shared/TEST-SERVERS.md: no penalty throttling, no per-IP connection limit, long
nicks, no PAM/DNS/ident."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .waiting import free_port, port_accepts, stop_process, wait_until

HOST = "127.0.0.1"


@dataclass
class Ngircd:
    workdir: Path
    port: int = field(default_factory=free_port)
    # TLS: (certificate PEM, key PEM); then the server also listens with TLS on tls_port.
    tls: tuple[Path, Path] | None = None
    tls_port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = field(default=None, init=False)

    @property
    def config_path(self) -> Path:
        return self.workdir / "ngircd.conf"

    def start(self, timeout: float = 20.0) -> None:
        binary = shutil.which("ngircd") or "/usr/sbin/ngircd"
        self.workdir.mkdir(parents=True, exist_ok=True)
        tls = "" if self.tls is None else f"[SSL]\nCertFile = {self.tls[0]}\nKeyFile = {self.tls[1]}\nPorts = {self.tls_port}\n"
        self.config_path.write_text(f"""\
[Global]
Name = irc.causeway.test
Info = Causeway end-to-end tests
AdminInfo1 = test
AdminInfo2 = test
AdminEMail = test@localhost
Listen = {HOST}
Ports = {self.port}
MotdPhrase = causeway e2e
[Limits]
MaxConnectionsIP = 0
MaxNickLength = 30
MaxPenaltyTime = 0
MaxJoins = 0
PingTimeout = 120
[Options]
PAM = no
DNS = no
Ident = no
{tls}""")
        with open(self.workdir / "ngircd.log", "ab") as log:
            self.proc = subprocess.Popen([binary, "--nodaemon", "--config", str(self.config_path)],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        ports = [self.port] + ([self.tls_port] if self.tls else [])
        wait_until(lambda: all(port_accepts(HOST, port) for port in ports), timeout, f"ngircd on {HOST}:{ports}")

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, term_timeout=5)


class RawIrcClient:
    """A person on IRC, speaking the protocol by hand so tests see exactly what arrives."""

    def __init__(self, port: int, nick: str):
        self.nick = nick
        self.sock = socket.create_connection((HOST, port), timeout=10)
        self.buffer = b""
        self.lines: list[str] = []
        self.send(f"NICK {nick}")
        self.send(f"USER {nick} 0 * :{nick}")
        self.wait_for(lambda line: f" 001 {nick} " in line, "registration (001)")

    def send(self, line: str) -> None:
        self.sock.sendall(line.encode() + b"\r\n")

    def _read(self, deadline: float) -> None:
        self.sock.settimeout(max(0.05, min(0.5, deadline - time.monotonic())))
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return
        if not chunk:
            raise ConnectionError(f"{self.nick}: the IRC server closed the connection")
        self.buffer += chunk
        while b"\r\n" in self.buffer:
            raw, self.buffer = self.buffer.split(b"\r\n", 1)
            line = raw.decode("utf-8", "replace")
            if line.startswith("PING "):
                self.send("PONG " + line[5:])
            self.lines.append(line)

    def poll(self, seconds: float = 0.05) -> None:
        """Reads what has arrived, waiting at most `seconds` (for waits that also pump XMPP)."""
        self._read(time.monotonic() + seconds)

    def wait_for(self, predicate, what: str, timeout: float = 20.0, since: int = 0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines[since:]:
                if predicate(line):
                    return line
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{self.nick}: no line matching {what} within {timeout:g}s; got {self.lines[since:][-20:]}")
            self._read(deadline)

    def collect(self, predicate, count: int, what: str, timeout: float = 20.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while True:
            found = [line for line in self.lines if predicate(line)]
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{self.nick}: {len(found)}/{count} lines matching {what}; got {self.lines[-20:]}")
            self._read(deadline)

    def close(self) -> None:
        try:
            self.send("QUIT :bye")
        except OSError:
            pass
        self.sock.close()
