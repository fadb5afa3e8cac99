"""The causeway binary under test: its config files, its process and its log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .waiting import stop_process, tail, wait_until

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_BIN = REPO_ROOT / ".build" / "debug" / "causeway"
STOP_TIMEOUT = 10.0


def causeway_binary() -> Path:
    """CAUSEWAY_BIN if set, else the debug build in this repo."""
    return Path(os.environ.get("CAUSEWAY_BIN") or DEFAULT_BIN)


def toml_value(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    # JSON's string escapes are valid TOML basic-string escapes.
    return json.dumps(value)


def toml_table(name: str | None, values: dict[str, str | int | bool]) -> str:
    lines = [f"[{name}]"] if name else []
    lines += [f"{key} = {toml_value(val)}" for key, val in values.items()]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Bridge:
    """One bridge instance: written to <bridges>/<name>/bridge.toml."""

    name: str
    domain: str
    secret: str
    kind: str = "core"
    display_name: str | None = None

    def toml(self) -> str:
        values: dict[str, str | int | bool] = {"kind": self.kind, "domain": self.domain, "secret": self.secret}
        if self.display_name is not None:
            values["name"] = self.display_name
        return toml_table(None, values)


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

    def config_text(self) -> str:
        return "\n".join([
            toml_table("xmpp", {"server_domain": self.server_domain, "host": self.host, "component_port": self.component_port}),
            toml_table("bridges", {"directory": "bridges"}),  # relative to causeway.toml
            toml_table("log", {"level": self.log_level}),
        ])

    def write_config(self) -> None:
        self.config_path.write_text(self.config_text())
        for bridge in self.bridges:
            path = self.bridge_path(bridge.name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(bridge.toml())

    # --- running ---------------------------------------------------------------------

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "causeway is already running"
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
