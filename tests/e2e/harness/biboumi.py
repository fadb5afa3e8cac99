"""Debian's biboumi (9.0), the reference XMPP-IRC gateway, as a component of a test Prosody.

Facts from shared/TEST-SERVERS.md: it needs `hostname`, `password`, `db_name`, and
`identd_port=0` (else it binds port 113); its settings live in its database, so each run
starts from a fresh directory. Its per-user throttling and port order (6697, 6670, then 6667)
are per-user settings, changed with the ad-hoc command `configure` on SERVER@DOMAIN."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .waiting import stop_process, tail

BIBOUMI_BIN = "/usr/bin/biboumi"


def biboumi_binary() -> str | None:
    """The biboumi executable, or None when the package is not installed."""
    return shutil.which("biboumi") or (BIBOUMI_BIN if Path(BIBOUMI_BIN).exists() else None)


def biboumi_version() -> str:
    """The Debian package version (biboumi itself has no --version in 9.0)."""
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "biboumi"], capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


@dataclass
class Biboumi:
    workdir: Path
    domain: str
    secret: str
    component_port: int
    xmpp_host: str = "127.0.0.1"
    # 0 debug, 1 info, 2 warning, 3 error
    log_level: int = 2
    admin: str = ""
    proc: subprocess.Popen | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)

    @property
    def config_path(self) -> Path:
        return self.workdir / "biboumi.cfg"

    @property
    def db_path(self) -> Path:
        return self.workdir / "biboumi.sqlite"

    @property
    def log_path(self) -> Path:
        return self.workdir / "biboumi.log"

    @property
    def console_path(self) -> Path:
        return self.workdir / "biboumi.console"

    def write_config(self) -> None:
        # option=value, no spaces around '=' (biboumi(1)).
        self.config_path.write_text(
            "\n".join([
                f"hostname={self.domain}",
                f"password={self.secret}",
                f"xmpp_server_ip={self.xmpp_host}",
                f"port={self.component_port}",
                f"db_name={self.db_path}",
                f"admin={self.admin}",
                "identd_port=0",
                "realname_customization=true",
                "realname_from_jid=false",
                f"log_file={self.log_path}",
                f"log_level={self.log_level}",
                # Its own (empty) policy directory rather than /etc/biboumi.
                f"policy_directory={self.workdir}",
                "",
            ])
        )

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "biboumi is already running"
        binary = biboumi_binary()
        if binary is None:
            raise FileNotFoundError("biboumi is not installed (apt-get install biboumi, or scripts/install-deps --with-biboumi)")
        self.write_config()
        with open(self.console_path, "ab") as console:
            self.proc = subprocess.Popen([binary, str(self.config_path)], cwd=self.workdir,
                                         stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT)

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM (biboumi quits its IRC connections, at most ~2 s), SIGKILL after `timeout`."""
        if self.proc is None:
            return None
        return stop_process(self.proc, term_timeout=timeout)

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def diagnostics(self, lines: int = 40) -> str:
        return (f"--- {self.console_path} ---\n{tail(self.console_path, lines)}\n"
                f"--- {self.log_path} (tail) ---\n{tail(self.log_path, lines)}")
