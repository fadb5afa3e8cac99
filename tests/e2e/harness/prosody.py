"""A throwaway Prosody (Debian's 0.12) for one test, in its own directory, on free ports."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .waiting import free_port, port_accepts, stop_process, tail, wait_until

PROSODY_BIN = "/usr/bin/prosody"
HOST = "127.0.0.1"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Component:
    """An external component (XEP-0114) Prosody accepts: its domain and shared secret."""

    domain: str
    secret: str


# XEP-0356 privileges for one component: {"roster": "both", "message": "outgoing"}.
Privileges = dict[str, str]


def lua_table(values: dict[str, str]) -> str:
    """A Lua table of string keys and string values: `{ ["roster"] = "both"; }`."""
    return "{ " + " ".join(f"[{lua_string(k)}] = {lua_string(v)};" for k, v in values.items()) + " }"


def lua_string(value: str) -> str:
    """A Lua string literal. Decimal escapes keep quotes, backslashes and control bytes safe."""
    out = []
    for byte in value.encode("utf-8"):
        char = chr(byte)
        if byte < 0x20 or byte >= 0x7F or char in "\"\\":
            out.append(f"\\{byte:03d}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def datamanager_encode(name: str) -> str:
    """Prosody's util.datamanager encoding of host and user names in paths: every
    non-alphanumeric byte becomes %xx (so "gw1.localhost" is stored as "gw1%2elocalhost")."""
    return re.sub(rb"[^A-Za-z0-9]", lambda m: b"%%%02x" % m.group()[0], name.encode()).decode()


@dataclass
class Prosody:
    """Writes a config under `workdir`, runs `prosody -F --config FILE` as a child.

    Ports are picked once, so stop() followed by start() brings the server back on the
    same ports with the same data (accounts), as a real restart would.
    """

    workdir: Path
    components: list[Component] = field(default_factory=list)
    domain: str = "localhost"
    # More VirtualHosts (e.g. "elsewhere.localhost" for users of a foreign domain).
    extra_hosts: list[str] = field(default_factory=list)
    # XEP-0356 (Debian prosody-modules' mod_privilege): component domain -> privileges. When
    # set, "privilege" is enabled globally and in every Component section, and the list is
    # given to every VirtualHost as `privileged_entities`.
    privileged_entities: dict[str, Privileges] | None = None
    c2s_port: int = field(default_factory=free_port)
    component_port: int = field(default_factory=free_port)
    host: str = HOST
    # Prosody's log level for `log_path` ("debug" for tests; benchmarks use "warn" so logging
    # every stanza does not become what they measure).
    log_level: str = "debug"
    # More global settings, as Lua lines (e.g. `network_settings = { nagle = false }`).
    extra_config: str = ""
    accounts: dict[str, str] = field(default_factory=dict, init=False)  # JID -> password
    proc: subprocess.Popen | None = field(default=None, init=False)
    last_start_seconds: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(exist_ok=True)
        # Prosody indexes <config dir>/certs at startup and logs an error if it is missing.
        (self.workdir / "certs").mkdir(exist_ok=True)
        self.write_config()

    @property
    def config_path(self) -> Path:
        return self.workdir / "prosody.cfg.lua"

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def log_path(self) -> Path:
        return self.workdir / "prosody.log"

    @property
    def console_path(self) -> Path:
        # stdout/stderr of the process: startup errors land here before logging is set up.
        return self.workdir / "prosody.console"

    @property
    def hosts(self) -> list[str]:
        return [self.domain, *self.extra_hosts]

    def write_config(self) -> None:
        privilege = self.privileged_entities is not None
        component_modules = '    modules_enabled = { "privilege" }\n' if privilege else ""
        components = "\n".join(
            f"Component {lua_string(c.domain)}\n    component_secret = {lua_string(c.secret)}\n{component_modules}"
            for c in self.components
        )
        host_settings = ""
        if privilege:
            entries = "\n".join(
                f"        [{lua_string(domain)}] = {lua_table(perms)};" for domain, perms in self.privileged_entities.items()
            )
            host_settings = f"    privileged_entities = {{\n{entries}\n    }}\n"
        hosts = "\n".join(f"VirtualHost {lua_string(host)}\n{host_settings}" for host in self.hosts)
        global_modules = ["roster", "saslauth", "disco", "ping", "version"] + (["privilege"] if privilege else [])
        self.config_path.write_text(f"""\
-- Written by tests/e2e/harness/prosody.py for one test run.
run_as_root = true  -- tests run as root; Prosody refuses to otherwise
data_path = {lua_string(str(self.data_dir))}
log = {{ {self.log_level} = {lua_string(str(self.log_path))} }}

-- Loopback only, on ports picked for this test.
interfaces = {{ "{self.host}" }}
local_interfaces = {{ "{self.host}" }}
c2s_ports = {{ {self.c2s_port} }}
c2s_direct_tls_ports = {{ }}
legacy_ssl_ports = {{ }}
component_interfaces = {{ "{self.host}" }}
component_ports = {{ {self.component_port} }}

-- s2s is loaded by default and would bind port 5269: not wanted in tests.
modules_disabled = {{ "s2s" }}
modules_enabled = {{ {", ".join(lua_string(m) for m in global_modules)} }}

-- Plain-text loopback logins, no TLS certificates, no rate limits.
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
storage = "internal"
{self.extra_config}
{hosts}
{components}""")

    def add_user(self, username: str, password: str, host: str | None = None) -> str:
        """Create an account by writing it where mod_auth_internal_plain reads it:
        DATA/<host>/accounts/<user>.dat holding `return { ["password"] = "..." };`.
        (prosodyctl register would want to switch to the prosody user.) Returns the JID.
        `host` is one of `hosts` (default: the main domain)."""
        host = host or self.domain
        assert host in self.hosts, f"{host} is not a VirtualHost of this Prosody ({self.hosts})"
        accounts = self.data_dir / datamanager_encode(host) / "accounts"
        accounts.mkdir(parents=True, exist_ok=True)
        path = accounts / f"{datamanager_encode(username)}.dat"
        path.write_text(f'return {{\n\t["password"] = {lua_string(password)};\n}};\n')
        jid = f"{username}@{host}"
        self.accounts[jid] = password
        return jid

    def start(self, timeout: float = START_TIMEOUT) -> None:
        assert not self.running, "Prosody is already running"
        started = time.monotonic()
        with open(self.console_path, "ab") as console:
            # -F: stay in the foreground so the PID we hold is Prosody's own.
            self.proc = subprocess.Popen(
                [PROSODY_BIN, "-F", "--config", str(self.config_path)],
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
            )
        ports = " and ".join(f"{self.host}:{port}" for port in self.listening_ports)
        try:
            wait_until(self._listening, timeout, f"Prosody to listen on {ports}")
        except TimeoutError as err:
            self.stop()  # don't leave a half-started server behind
            raise TimeoutError(f"{err}\n{self.diagnostics()}") from None
        self.last_start_seconds = time.monotonic() - started

    @property
    def listening_ports(self) -> list[int]:
        # Prosody loads mod_component, and opens the component port, only when the
        # config has at least one Component.
        return [self.c2s_port, self.component_port] if self.components else [self.c2s_port]

    def _listening(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"Prosody exited with status {self.proc.returncode} while starting\n{self.diagnostics()}")
        return all(port_accepts(self.host, port) for port in self.listening_ports)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM (Prosody shuts down cleanly on it), SIGKILL after the bound; then make sure
        the ports are free again, so an immediate start() can bind them."""
        if self.proc is None:
            return
        stop_process(self.proc, term_timeout=timeout)
        wait_until(
            lambda: not any(port_accepts(self.host, port) for port in self.listening_ports),
            timeout,
            "Prosody's ports to close",
        )

    def restart(self) -> None:
        self.stop()
        self.start()

    def freeze(self) -> None:
        """SIGSTOP: Prosody keeps its connections open but reads and answers nothing."""
        os.kill(self.proc.pid, signal.SIGSTOP)

    def kill(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGKILL (frozen or not): its connections are closed by the kernel, with nothing said."""
        self.proc.kill()
        self.proc.wait(timeout)
        wait_until(
            lambda: not any(port_accepts(self.host, port) for port in self.listening_ports),
            timeout,
            "Prosody's ports to close",
        )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def diagnostics(self, lines: int = 40) -> str:
        return (
            f"--- {self.console_path} ---\n{tail(self.console_path, lines)}\n"
            f"--- {self.log_path} (tail) ---\n{tail(self.log_path, lines)}"
        )
