"""The causeway binary under test: its config files, its process and its log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .waiting import free_port, port_accepts, stop_process, tail, wait_until

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_BIN = REPO_ROOT / ".build" / "debug" / "causeway"
STOP_TIMEOUT = 10.0


def causeway_binary() -> Path:
    """CAUSEWAY_BIN if set, else the debug build in this repo."""
    return Path(os.environ.get("CAUSEWAY_BIN") or DEFAULT_BIN)


TomlValue = str | int | float | bool | list


def toml_value(value: TomlValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    # JSON's string escapes are valid TOML basic-string escapes.
    return json.dumps(value)


def toml_table(name: str | None, values: dict[str, TomlValue]) -> str:
    lines = [f"[{name}]"] if name else []
    lines += [f"{key} = {toml_value(val)}" for key, val in values.items()]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Bridge:
    """One bridge instance: written to <bridges>/<name>/bridge.toml.

    `tables` holds the kind's own tables, e.g. {"carrier": {"api_url": ...}} for SMS."""

    name: str
    domain: str
    secret: str
    kind: str = "core"
    display_name: str | None = None
    tables: dict[str, dict[str, TomlValue]] = field(default_factory=dict, hash=False, compare=False)

    def toml(self) -> str:
        values: dict[str, TomlValue] = {"kind": self.kind, "domain": self.domain, "secret": self.secret}
        if self.display_name is not None:
            values["name"] = self.display_name
        parts = [toml_table(None, values)]
        parts += [toml_table(name, table) for name, table in self.tables.items()]
        return "\n".join(parts)

    def table(self, name: str) -> dict[str, TomlValue]:
        return self.tables.get(name, {})


def sms_bridge(
    name: str,
    domain: str,
    secret: str,
    api_url: str,
    webhook_secret: str,
    display_name: str | None = "SMS",
    default_country_code: str | None = "1",
    max_segments: int | None = 10,
    **carrier: TomlValue,
) -> Bridge:
    """An `sms` bridge whose [carrier] table points at `api_url` (a StubCarrier's URL).
    Extra keyword arguments go into [carrier] as they are (request_timeout_seconds, attempts…)."""
    table: dict[str, TomlValue] = {"api_url": api_url, "webhook_secret": webhook_secret}
    if default_country_code is not None:
        table["default_country_code"] = default_country_code
    if max_segments is not None:
        table["max_segments"] = max_segments
    table.update(carrier)
    return Bridge(name, domain, secret, kind="sms", display_name=display_name, tables={"carrier": table})


@dataclass
class Causeway:
    """Writes causeway.toml and the bridge folders under `workdir`; runs the daemon.

    The daemon's stderr (its log) goes to `log_path`, stdout to `stdout_path`.
    """

    binary: Path
    workdir: Path
    component_port: int
    bridges: list[Bridge] = field(default_factory=list)
    server_domain: str = "localhost"
    host: str = "127.0.0.1"
    log_level: str = "debug"
    # The HTTP listener (webhooks): a free port of its own for every instance.
    http_host: str = "127.0.0.1"
    http_port: int = field(default_factory=free_port)
    # [registration] allowed_domains; None leaves the key out (the daemon's default: server_domain).
    allowed_domains: list[str] | None = None
    # [admins] jids
    admins: list[str] = field(default_factory=list)
    # [link] reconnect delays; None leaves the daemon's defaults.
    reconnect_initial_seconds: float | None = None
    reconnect_max_seconds: float | None = None
    # Extra [section] -> {key: value} written into causeway.toml as they are.
    extra_tables: dict[str, dict[str, TomlValue]] = field(default_factory=dict)
    proc: subprocess.Popen | None = field(default=None, init=False)
    needed_kill: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.write_config()

    @property
    def config_path(self) -> Path:
        return self.workdir / "causeway.toml"

    @property
    def bridges_dir(self) -> Path:
        return self.workdir / "bridges"

    @property
    def log_path(self) -> Path:
        return self.workdir / "causeway.log"

    @property
    def stdout_path(self) -> Path:
        return self.workdir / "causeway.stdout"

    def bridge_path(self, name: str) -> Path:
        return self.bridges_dir / name / "bridge.toml"

    @property
    def store_path(self) -> Path:
        return self.workdir / "causeway.sqlite"

    @property
    def vault_key_path(self) -> Path:
        return self.workdir / "vault.key"

    @property
    def http_base_url(self) -> str:
        return f"http://{self.http_host}:{self.http_port}"

    def webhook_base_url(self, bridge_name: str) -> str:
        """Where a carrier posts this bridge's webhooks: <base>/inbound and <base>/status."""
        return f"{self.http_base_url}/webhooks/{bridge_name}"

    def config_text(self) -> str:
        tables = [
            toml_table("xmpp", {"server_domain": self.server_domain, "host": self.host, "component_port": self.component_port}),
            toml_table("bridges", {"directory": "bridges"}),  # relative to causeway.toml
            toml_table("store", {"path": self.store_path.name}),  # relative to causeway.toml
            toml_table("vault", {"key_file": self.vault_key_path.name}),
            toml_table("http", {"host": self.http_host, "port": self.http_port}),
            toml_table("log", {"level": self.log_level}),
        ]
        if self.allowed_domains is not None:
            tables.append(toml_table("registration", {"allowed_domains": list(self.allowed_domains)}))
        if self.admins:
            tables.append(toml_table("admins", {"jids": list(self.admins)}))
        link: dict[str, TomlValue] = {}
        if self.reconnect_initial_seconds is not None:
            link["reconnect_initial_seconds"] = self.reconnect_initial_seconds
        if self.reconnect_max_seconds is not None:
            link["reconnect_max_seconds"] = self.reconnect_max_seconds
        if link:
            tables.append(toml_table("link", link))
        tables += [toml_table(name, values) for name, values in self.extra_tables.items()]
        return "\n".join(tables)

    def generate_key(self, path: Path | None = None, timeout: float = 30.0) -> subprocess.CompletedProcess:
        """`causeway generate-key --output PATH` (default: the vault key this config names)."""
        return subprocess.run(
            [str(self.binary), "generate-key", "--output", str(path or self.vault_key_path)],
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def ensure_vault_key(self) -> None:
        """The daemon refuses to start without a vault key: make one once per workdir."""
        if self.vault_key_path.exists():
            return
        result = self.generate_key()
        assert result.returncode == 0 and self.vault_key_path.exists(), (
            f"causeway generate-key --output {self.vault_key_path} failed with status {result.returncode}:\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}"
        )

    def write_config(self) -> None:
        self.config_path.write_text(self.config_text())
        for bridge in self.bridges:
            path = self.bridge_path(bridge.name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(bridge.toml())

    # --- running ---------------------------------------------------------------------

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "causeway is already running"
        self.ensure_vault_key()
        with open(self.log_path, "ab") as log, open(self.stdout_path, "ab") as out:
            self.proc = subprocess.Popen(
                [str(self.binary), "run", "--config", str(self.config_path)],
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=log,
            )

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM, SIGKILL after `timeout`. Returns the exit status (None if never started);
        `needed_kill` tells whether SIGTERM alone failed to stop it in time."""
        if self.proc is None:
            return None
        already_exited = self.proc.poll() is not None
        status = stop_process(self.proc, term_timeout=timeout)
        self.needed_kill = not already_exited and status == -signal.SIGKILL
        return status

    def restart(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM, wait, start again with the same config, store and vault. Returns the exit status."""
        status = self.stop(timeout)
        self.start()
        return status

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_http(self, timeout: float = 15.0) -> None:
        """Wait until the webhook listener accepts connections (fails at once if causeway exits)."""

        def up() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"causeway exited with status {self.proc.returncode}\n{self.diagnostics()}")
            return port_accepts(self.http_host, self.http_port)

        try:
            wait_until(up, timeout, f"causeway's HTTP listener on {self.http_host}:{self.http_port}")
        except TimeoutError as err:
            raise AssertionError(f"{err}\n{self.diagnostics()}") from None

    def check_config(self, config: Path | None = None, timeout: float = 30.0) -> subprocess.CompletedProcess:
        """Run `causeway check-config --config FILE` from `workdir`; output captured as text."""
        return subprocess.run(
            [str(self.binary), "check-config", "--config", str(config or self.config_path)],
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    # --- the log ---------------------------------------------------------------------

    def _log_bytes(self) -> bytes:
        try:
            return self.log_path.read_bytes()
        except FileNotFoundError:
            return b""

    def log_mark(self) -> int:
        """A position (in bytes) in the log; pass it as `since` to wait only for lines written later."""
        return len(self._log_bytes())

    def find_log_line(self, *needles: str, since: int = 0) -> str | None:
        """The first complete line after `since` containing every needle (case-insensitive:
        the tests pin down what is logged, not its capitalisation)."""
        wanted = [n.lower() for n in needles]
        data = self._log_bytes()[since:]
        complete = data[: data.rfind(b"\n") + 1]  # a line still being written may be cut short
        for line in complete.decode(errors="replace").splitlines():
            if all(n in line.lower() for n in wanted):
                return line
        return None

    def wait_for_log(self, *needles: str, timeout: float = 15.0, since: int = 0) -> str:
        """Wait until one log line contains all `needles`; return that line.

        Fails at once, with the log tail, if causeway exits meanwhile."""

        def found() -> str | None:
            line = self.find_log_line(*needles, since=since)
            if line is None and self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(
                    f"causeway exited with status {self.proc.returncode} before logging {needles!r}\n{self.diagnostics()}"
                )
            return line

        try:
            return wait_until(found, timeout, f"a causeway log line containing {needles!r}")
        except TimeoutError as err:
            raise AssertionError(f"{err}\n{self.diagnostics()}") from None

    def diagnostics(self, lines: int = 60) -> str:
        text = f"--- {self.log_path} (tail) ---\n{tail(self.log_path, lines)}"
        if self.stdout_path.exists() and self.stdout_path.stat().st_size:
            text += f"\n--- {self.stdout_path} (tail) ---\n{tail(self.stdout_path, lines)}"
        return text
