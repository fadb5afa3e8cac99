"""Brings Causeway up locally: a Prosody on 127.0.0.1 with one component per bridge folder
(with XEP-0356 roster privilege), accounts to log in with, the stub SMS carrier, and the causeway
daemon from this checkout. Run by scripts/up; scripts/down stops everything by the PIDs written
under run/.

It reuses the end-to-end harness, so the local setup is the one the tests prove.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from harness.ngircd import Ngircd  # noqa: E402
from harness.prosody import Component, Prosody  # noqa: E402
from harness.waiting import port_accepts, wait_until  # noqa: E402

RUN = REPO / "run"
CONFIG = REPO / "config" / "causeway.toml"
USERS = {"alice": "alice", "bob": "bob", "admin": "admin"}
IRC_PORT = 6667
# The stub carrier's accounts: one per user, each with a number (see bridges/sms/bridge.toml).
STUB_PORT = 8490
STUB_ACCOUNTS = {"alice": ("alice-token", "+15550000001"), "bob": ("bob-token", "+15550000002")}


def bridges() -> dict[str, dict]:
    """Every bridges/<name>/bridge.toml, by folder name."""
    daemon = tomllib.loads(CONFIG.read_text())
    directory = (CONFIG.parent / daemon.get("bridges", {}).get("directory", "bridges")).resolve()
    return {path.parent.name: tomllib.loads(path.read_text()) | {"_folder": path.parent}
            for path in sorted(directory.glob("*/bridge.toml"))}


def bridge_components() -> list[Component]:
    """One Prosody component per bridge folder, with that bridge's domain and secret."""
    components = []
    for bridge in bridges().values():
        secret = bridge.get("secret") or (bridge["_folder"] / bridge["secret_file"]).read_text().strip()
        components.append(Component(bridge["domain"], secret))
    return components


def start_sms_stub(binary: Path, http: dict) -> str | None:
    """The stub carrier for the first SMS bridge, with an account and number per user."""
    sms = next(((name, b) for name, b in bridges().items() if b.get("kind") == "sms"), None)
    if sms is None:
        return None
    name, bridge = sms
    webhooks = f"http://{http.get('host', '127.0.0.1')}:{http.get('port', 8480)}/webhooks/{name}"
    accounts = [f"--account={user}:{token}:{number}:{webhooks}" for user, (token, number) in STUB_ACCOUNTS.items()]
    with open(RUN / "sms-stub.log", "ab") as output:
        stub = subprocess.Popen(
            [str(binary), "sms-stub", "--port", str(STUB_PORT), "--webhook-secret", bridge["carrier"]["webhook_secret"], *accounts],
            cwd=REPO, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )
    (RUN / "sms-stub.pid").write_text(f"{stub.pid}\n")
    wait_until(lambda: port_accepts("127.0.0.1", STUB_PORT), 30, "the stub SMS carrier")
    return bridge["domain"]


def main() -> int:
    binary = Path(sys.argv[1])
    daemon = tomllib.loads(CONFIG.read_text())
    server = daemon["xmpp"]
    for port in (5222, server.get("component_port", 5347), IRC_PORT, STUB_PORT):
        if port_accepts("127.0.0.1", port):
            print(f"up: port {port} on 127.0.0.1 is taken; run scripts/down, or stop what listens there", file=sys.stderr)
            return 1

    RUN.mkdir(exist_ok=True)
    if "key_file" in daemon.get("vault", {}) and not (CONFIG.parent / daemon["vault"]["key_file"]).exists():
        subprocess.run([str(binary), "generate-key", "--output", str(CONFIG.parent / daemon["vault"]["key_file"])], check=True)
    components = bridge_components()
    prosody = Prosody(
        RUN / "prosody", components=components, domain=server["server_domain"],
        c2s_port=5222, component_port=server.get("component_port", 5347),
        privileged_entities={c.domain: {"roster": "both", "message": "outgoing"} for c in components},
    )
    for user, password in USERS.items():
        prosody.add_user(user, password)
    prosody.start()
    (RUN / "prosody.pid").write_text(f"{prosody.proc.pid}\n")

    sms_domain = start_sms_stub(binary, daemon.get("http", {}))
    irc_domain = next((b["domain"] for b in bridges().values() if b.get("kind") == "irc"), None)
    if irc_domain:
        ircd = Ngircd(RUN / "ngircd", port=IRC_PORT)
        ircd.start()
        (RUN / "ngircd.pid").write_text(f"{ircd.proc.pid}\n")

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
""" + (f"""
SMS: register with {sms_domain} from your client's service browser (or an ad-hoc command), using
  alice: phone {STUB_ACCOUNTS['alice'][1]}, account alice, token {STUB_ACCOUNTS['alice'][0]}
  bob:   phone {STUB_ACCOUNTS['bob'][1]}, account bob, token {STUB_ACCOUNTS['bob'][0]}
then write to +15550000002@{sms_domain} as alice, or have the stub carrier text you:
  curl -s -X POST http://127.0.0.1:{STUB_PORT}/control/inbound -H 'content-type: application/json' \\
       -d '{{"from": "+15557654321", "to": "{STUB_ACCOUNTS['alice'][1]}", "text": "Hello from SMS"}}'
and see what the carrier was asked to send: curl -s http://127.0.0.1:{STUB_PORT}/control/sent
""" if sms_domain else "") + (f"""
IRC: an IRC server (ngircd) listens on 127.0.0.1:{IRC_PORT}. Register a nick with {irc_domain}, then write
to bob%127.0.0.1@{irc_domain} — as bob, connect any IRC client to 127.0.0.1:{IRC_PORT} with nick bob, or:
  printf 'NICK bob\\r\\nUSER bob 0 * :Bob\\r\\n' | nc 127.0.0.1 {IRC_PORT}
Channels are rooms: join #test%127.0.0.1@{irc_domain} from your client's "join room" dialog
(profanity: /join #test%127.0.0.1@{irc_domain}); browse 127.0.0.1@{irc_domain} for the channel list.
""" if irc_domain else "") + """
Stop everything with scripts/down.""")
    return 0


if __name__ == "__main__":
    sys.exit(main())
