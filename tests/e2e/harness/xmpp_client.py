"""A logged-in XMPP user for tests, with blocking helpers around slixmpp.

slixmpp is asyncio-based; tests are plain functions. Each client owns a private event
loop and runs it only inside a call (`_run`), always under `asyncio.wait_for`, so every
helper returns or raises within its timeout. IQs are sent as raw XML and answers parsed
with ElementTree rather than through slixmpp's plugins, so the tests see exactly what
the gateway sent (no caching, no local answers).
"""

from __future__ import annotations

import asyncio
import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout

DEFAULT_TIMEOUT = 10.0

NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
NS_VERSION = "jabber:iq:version"
NS_PING = "urn:xmpp:ping"


@dataclass
class IqReply:
    """The answer to an IQ: its type and the whole <iq/> element."""

    xml: ET.Element

    @property
    def type(self) -> str:
        return self.xml.get("type", "")

    @property
    def sender(self) -> str:
        return self.xml.get("from", "")

    @property
    def error(self) -> ET.Element | None:
        return self.xml.find("{jabber:client}error")

    @property
    def condition(self) -> str | None:
        """The defined condition of an error reply ("service-unavailable", ...), else None."""
        if self.error is None:
            return None
        for child in self.error:
            if child.tag.startswith("{" + NS_STANZAS + "}") and not child.tag.endswith("}text"):
                return child.tag.split("}", 1)[1]
        return None

    def child(self, namespace: str, name: str = "query") -> ET.Element | None:
        return self.xml.find(f"{{{namespace}}}{name}")

    def expect_result(self, what: str) -> IqReply:
        assert self.type == "result", f"{what}: expected a result, got {self.describe()}"
        return self

    def describe(self) -> str:
        return ET.tostring(self.xml, encoding="unicode")


@dataclass(frozen=True)
class Identity:
    category: str
    type: str
    name: str | None


@dataclass(frozen=True)
class DiscoInfo:
    identities: list[Identity]
    features: set[str]


@dataclass(frozen=True)
class DiscoItem:
    jid: str
    node: str | None
    name: str | None


class LoginFailed(Exception):
    pass


class XmppClient:
    """One c2s session. Use as a context manager, or call close()."""

    def __init__(self, jid: str, password: str, host: str, port: int, timeout: float = DEFAULT_TIMEOUT):
        self.jid = jid
        self.timeout = timeout
        self._address = (host, port)
        self._loop = asyncio.new_event_loop()
        # slixmpp looks the loop up at construction time in places; make ours the current one.
        asyncio.set_event_loop(self._loop)
        self._xmpp = slixmpp.ClientXMPP(jid, password)
        self._xmpp.loop = self._loop
        # Loopback server without TLS: allow PLAIN in the clear (the server allows it too).
        self._xmpp["feature_mechanisms"].unencrypted_plain = True
        self._outcome: asyncio.Future | None = None

    # --- session ---------------------------------------------------------------------

    def connect(self) -> XmppClient:
        """Connect and log in; raises LoginFailed or TimeoutError within the timeout."""
        self._outcome = self._loop.create_future()
        self._xmpp.add_event_handler("session_start", lambda _: self._settle(None))
        self._xmpp.add_event_handler("failed_auth", lambda _: self._settle(LoginFailed(f"{self.jid}: authentication failed")))
        self._xmpp.add_event_handler(
            "connection_failed", lambda err: self._settle(LoginFailed(f"{self.jid}: connection failed: {err}"))
        )
        # No TLS: the test server has no certificate and offers no STARTTLS.
        self._xmpp.connect(address=self._address, force_starttls=False, disable_starttls=True)
        try:
            error = self._run(self._outcome, "login")
        except BaseException:
            self.close()
            raise
        if error is not None:
            self.close()
            raise error
        return self

    def _settle(self, result: Exception | None) -> None:
        if self._outcome is not None and not self._outcome.done():
            self._outcome.set_result(result)

    def close(self) -> None:
        """Close the stream (bounded) and the private loop. Safe to call twice."""
        if self._loop.is_closed():
            return
        try:
            if self._xmpp.transport is not None:
                self._run(self._xmpp.disconnect(wait=1.0), "disconnect", timeout=3.0)
        except (TimeoutError, asyncio.TimeoutError):
            self._xmpp.abort()
        finally:
            # slixmpp leaves background tasks (stanza filters, keepalive) waiting on the
            # loop; cancel and reap them so closing the loop leaves nothing half-run.
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            asyncio.set_event_loop(None)
            self._loop.close()

    def __enter__(self) -> XmppClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _run(self, awaitable, what: str, timeout: float | None = None):
        timeout = self.timeout if timeout is None else timeout
        try:
            return self._loop.run_until_complete(asyncio.wait_for(awaitable, timeout))
        except asyncio.TimeoutError:
            raise TimeoutError(f"{self.jid}: no answer within {timeout:g}s to {what}") from None

    # --- IQs -------------------------------------------------------------------------

    def iq(self, to: str, payload: str, iq_type: str = "get", timeout: float | None = None) -> IqReply:
        """Send an IQ carrying the raw XML `payload` and return the reply, result or error."""
        timeout = self.timeout if timeout is None else timeout
        stanza = self._xmpp.Iq()
        stanza["type"] = iq_type
        stanza["to"] = to
        stanza["id"] = self._xmpp.new_id()
        stanza.append(ET.fromstring(payload))
        what = f"<iq type='{iq_type}' to='{to}'>{payload}"
        try:
            # slixmpp's own timeout fires IqTimeout; wait_for in _run is the outer bound.
            reply = self._run(stanza.send(timeout=timeout), what, timeout=timeout + 1)
        except IqError as err:
            reply = err.iq
        except IqTimeout:
            raise TimeoutError(f"{self.jid}: no answer within {timeout:g}s to {what}") from None
        return IqReply(reply.xml)

    def disco_info(self, to: str) -> DiscoInfo:
        reply = self.iq(to, f"<query xmlns='{NS_DISCO_INFO}'/>").expect_result(f"disco#info on {to}")
        query = reply.child(NS_DISCO_INFO)
        assert query is not None, f"disco#info on {to}: result has no query: {reply.describe()}"
        identities = [
            Identity(el.get("category", ""), el.get("type", ""), el.get("name"))
            for el in query.findall(f"{{{NS_DISCO_INFO}}}identity")
        ]
        features = {el.get("var", "") for el in query.findall(f"{{{NS_DISCO_INFO}}}feature")}
        return DiscoInfo(identities, features)

    def disco_items(self, to: str) -> list[DiscoItem]:
        reply = self.iq(to, f"<query xmlns='{NS_DISCO_ITEMS}'/>").expect_result(f"disco#items on {to}")
        query = reply.child(NS_DISCO_ITEMS)
        assert query is not None, f"disco#items on {to}: result has no query: {reply.describe()}"
        return [
            DiscoItem(el.get("jid", ""), el.get("node"), el.get("name"))
            for el in query.findall(f"{{{NS_DISCO_ITEMS}}}item")
        ]

    def version(self, to: str) -> dict[str, str]:
        """XEP-0092 answer as {"name": ..., "version": ..., "os": ...} (present fields only)."""
        reply = self.iq(to, f"<query xmlns='{NS_VERSION}'/>").expect_result(f"version on {to}")
        query = reply.child(NS_VERSION)
        assert query is not None, f"version on {to}: result has no query: {reply.describe()}"
        return {child.tag.split("}", 1)[1]: (child.text or "") for child in query}

    def ping(self, to: str) -> IqReply:
        return self.iq(to, f"<ping xmlns='{NS_PING}'/>")


def quiet_slixmpp() -> None:
    """slixmpp logs every reconnect attempt at WARNING/ERROR; keep failure output readable."""
    logging.getLogger("slixmpp").setLevel(logging.CRITICAL)
