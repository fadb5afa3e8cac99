"""Prosody + causeway with one IRC bridge on an ngircd, and alice registered and online."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .causeway import Bridge, TomlValue
from .ngircd import Ngircd, RawIrcClient
from .xmpp_client import XmppClient

IRC_DOMAIN = "irc.localhost"
IRC_SECRET = "irc-component-secret"


def start_irc_gateway(ngircd: Ngircd, start_prosody: Callable, start_causeway: Callable, connect_client: Callable,
                      extra_tables: dict[str, dict[str, TomlValue]] | None = None,
                      causeway_tables: dict[str, dict[str, TomlValue]] | None = None) -> tuple[XmppClient, object, object]:
    """Starts the stack against a running `ngircd`; returns alice (registered as alice_xmpp, online),
    Prosody and causeway. `extra_tables` go to the bridge's file, `causeway_tables` to
    causeway.toml. Presence is polled every second (ngircd has no MONITOR) so tests wait little."""
    prosody = start_prosody(components=[(IRC_DOMAIN, IRC_SECRET)])
    tables = {"irc": {"port": ngircd.port, "throttle": "off", "presence_poll": 1, "allow_raw_commands": True}}
    tables.update(extra_tables or {})
    causeway = start_causeway(prosody, [Bridge("irc", IRC_DOMAIN, IRC_SECRET, kind="irc", tables=tables)],
                              extra_tables=causeway_tables or {})
    causeway.wait_for_log("component link established", IRC_DOMAIN, timeout=20)
    alice = connect_client(prosody)
    reply = alice.register_legacy(IRC_DOMAIN, {"nick": "alice_xmpp"})
    assert reply.type == "result", reply.describe()
    alice.go_online()  # available, so messages come straight to this session
    return alice, prosody, causeway


@dataclass
class IrcWorld:
    """What an IRC test works with; unpacks as (alice, person, ngircd, prosody)."""
    alice: XmppClient | None
    person: Callable[[str], RawIrcClient] | None
    ngircd: Ngircd
    prosody: object
    causeway: object = None
    clients: list[RawIrcClient] = field(default_factory=list)

    def __iter__(self):
        return iter((self.alice, self.person, self.ngircd, self.prosody))
