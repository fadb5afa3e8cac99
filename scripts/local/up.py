"""Brings Causeway up locally: a Prosody on 127.0.0.1 with one component per bridge folder,
two accounts to log in with, and the causeway daemon from this checkout. Run by scripts/up;
scripts/down stops everything by the PIDs written under run/.

It reuses the end-to-end harness, so the local setup is the one the tests prove.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from harness.prosody import Component, Prosody  # noqa: E402
from harness.waiting import port_accepts, wait_until  # noqa: E402

RUN = REPO / "run"
CONFIG = REPO / "config" / "causeway.toml"
USERS = {"alice": "alice", "bob": "bob"}


def bridge_components() -> list[Component]:
    """One Prosody component per bridges/<name>/bridge.toml, with that bridge's domain and secret."""
    daemon = tomllib.loads(CONFIG.read_text())
    directory = (CONFIG.parent / daemon.get("bridges", {}).get("directory", "bridges")).resolve()
    components = []
    for path in sorted(directory.glob("*/bridge.toml")):
        bridge = tomllib.loads(path.read_text())
        secret = bridge.get("secret") or (path.parent / bridge["secret_file"]).read_text().strip()
        components.append(Component(bridge["domain"], secret))
    return components


def main() -> int:
    binary = Path(sys.argv[1])
    daemon = tomllib.loads(CONFIG.read_text())
    server = daemon["xmpp"]
    for port in (5222, server.get("component_port", 5347)):
        if port_accepts("127.0.0.1", port):
            print(f"up: port {port} on 127.0.0.1 is taken; run scripts/down, or stop what listens there", file=sys.stderr)
            return 1

    RUN.mkdir(exist_ok=True)
    components = bridge_components()
    prosody = Prosody(
        RUN / "prosody", components=components, domain=server["server_domain"],
        c2s_port=5222, component_port=server.get("component_port", 5347),
    )
    for user, password in USERS.items():
        prosody.add_user(user, password)
    prosody.start()
    (RUN / "prosody.pid").write_text(f"{prosody.proc.pid}\n")

    log = RUN / "causeway.log"
    with open(log, "ab") as output:
        causeway = subprocess.Popen(
            [str(binary), "run", "--config", str(CONFIG)],
            cwd=REPO, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    (RUN / "causeway.pid").write_text(f"{causeway.pid}\n")

    def all_linked() -> bool:
        if causeway.poll() is not None:
            raise RuntimeError(f"causeway exited with status {causeway.returncode}; see {log}")
        lines = log.read_text(errors="replace").splitlines()
        return all(
            any("component link established" in line and f"domain={c.domain}" in line for line in lines)
            for c in components
        )

    wait_until(all_linked, 60, "causeway's component links")
    domains = ", ".join(c.domain for c in components)
    print(f"""
Causeway is up.
  XMPP server  Prosody on 127.0.0.1:5222 (domain {server['server_domain']}, plain-text login on loopback)
  Bridges      {domains}  (component port {prosody.component_port})
  Logs         {log}, {prosody.log_path}

Connect a client as {', '.join(f'{u}@{server["server_domain"]} (password {p})' for u, p in USERS.items())},
server 127.0.0.1, port 5222, TLS off. For example:
  profanity:  /connect alice@{server['server_domain']} server 127.0.0.1 port 5222 tls allow
  poezio:     poezio  (then /connect alice@{server['server_domain']}), or set server=127.0.0.1 in poezio.cfg
Then browse the services of {server['server_domain']}, or ask a bridge directly, e.g. in profanity:
  /disco info {components[0].domain}
Stop everything with scripts/down.""")
    return 0


if __name__ == "__main__":
    sys.exit(main())
