"""One SMS gateway under test: Prosody with the SMS component, the stub carrier and causeway
with an `sms` bridge pointing at each other, plus the steps every SMS test repeats."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from .causeway import Bridge, Causeway
from .prosody import Prosody
from .sms_stub import StubCarrier
from .xmpp_client import NS_REGISTER, IqReply, XmppClient, is_presence

SMS_DOMAIN = "sms.localhost"
SMS_SECRET = "sms-component-secret"
BRIDGE_NAME = "sms"  # the bridge folder: webhooks at /webhooks/sms/…
WEBHOOK_SECRET = "whsec-for-tests"

LINK_TIMEOUT = 20.0
# Quick reconnects, so tests that restart Prosody don't wait out the default backoff.
RECONNECT_INITIAL = 0.2
RECONNECT_MAX = 2.0


@dataclass(frozen=True)
class Subscriber:
    """A carrier account and the number a test user registers with it."""

    account: str
    token: str
    number: str


# acct-1 holds two numbers, so two users can both pass the carrier's check for one of them
# (the gateway must still refuse the second: conflict).
ACCT_1 = ("acct-1", "tok-1-secret", ("+15550001111", "+15550002222"))
ACCT_2 = ("acct-2", "tok-2-secret", ("+15550003333",))
ALICE_SUB = Subscriber("acct-1", "tok-1-secret", "+15550001111")
BOB_SUB = Subscriber("acct-2", "tok-2-secret", "+15550003333")


def contact_jid(number: str) -> str:
    return f"{number}@{SMS_DOMAIN}"


@dataclass
class SmsGateway:
    prosody: Prosody
    causeway: Causeway
    stub: StubCarrier
    bridge: Bridge
    clients: list[XmppClient] = field(default_factory=list)

    @property
    def domain(self) -> str:
        return self.bridge.domain

    def webhook_url(self, endpoint: str = "inbound") -> str:
        return f"{self.causeway.webhook_base_url(self.bridge.name)}/{endpoint}"

    def wait_link(self, since: int = 0, timeout: float = LINK_TIMEOUT) -> None:
        self.causeway.wait_for_log("component link established", self.domain, timeout=timeout, since=since)

    def wait_ready(self, since: int = 0, timeout: float = LINK_TIMEOUT) -> None:
        """The component link is up and the webhook listener accepts connections."""
        self.wait_link(since=since, timeout=timeout)
        self.causeway.wait_http(timeout=timeout)

    # --- user steps ------------------------------------------------------------------------

    def register(self, client: XmppClient, sub: Subscriber, form: bool = False, phone: str | None = None) -> IqReply:
        """Register `client`'s user with legacy fields (or an x:data form); the reply as it came."""
        phone = sub.number if phone is None else phone
        if form:
            return client.register_form_submit(self.domain, {"phone": phone, "account": sub.account, "token": sub.token})
        return client.register_legacy(self.domain, {"phone": phone, "username": sub.account, "password": sub.token})

    def register_ok(self, client: XmppClient, sub: Subscriber, form: bool = False) -> ET.Element:
        """Register and wait for the gateway's subscription request; returns that presence."""
        mark = client.mark()
        self.register(client, sub, form=form).expect_result(f"registering {client.jid} as {sub.number}")
        return client.wait_for(
            is_presence(self.domain, "subscribe"), f"<presence type='subscribe'> from {self.domain} after registering", since=mark
        )

    def log_in(self, client: XmppClient, timeout: float = 10.0) -> ET.Element:
        """Go online (roster get + initial presence), then send directed presence to the
        gateway; wait for the gateway's available presence."""
        mark = client.mark()
        client.go_online()
        client.presence(to=self.domain)
        return client.wait_for(is_presence(self.domain, "available"), f"available presence from {self.domain}", timeout, since=mark)

    def registered_online(self, client: XmppClient, sub: Subscriber) -> None:
        """Register, accept the gateway's subscription (slixmpp's auto-authorize does) and log in."""
        client.go_online()
        self.register_ok(client, sub)
        self.log_in(client)

    def registration_query(self, client: XmppClient) -> ET.Element:
        reply = client.register_form(self.domain).expect_result(f"registration form of {self.domain}")
        query = reply.child(NS_REGISTER)
        assert query is not None, f"registration get: no query: {reply.describe()}"
        return query
