"""A logged-in XMPP user for tests, with blocking helpers around slixmpp.

slixmpp is asyncio-based; tests are plain functions. Each client owns a private event
loop and runs it only inside a call (`_run`), always under `asyncio.wait_for`, so every
helper returns or raises within its timeout. IQs are sent as raw XML and answers parsed
with ElementTree rather than through slixmpp's plugins, so the tests see exactly what
the gateway sent (no caching, no local answers).
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Callable
from xml.sax.saxutils import escape, quoteattr

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout

DEFAULT_TIMEOUT = 10.0

NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
NS_VERSION = "jabber:iq:version"
NS_PING = "urn:xmpp:ping"
NS_CLIENT = "jabber:client"
NS_REGISTER = "jabber:iq:register"
NS_GATEWAY = "jabber:iq:gateway"
NS_ROSTER = "jabber:iq:roster"
NS_DATA = "jabber:x:data"
NS_COMMANDS = "http://jabber.org/protocol/commands"
NS_RECEIPTS = "urn:xmpp:receipts"
NS_NICK = "http://jabber.org/protocol/nick"
NS_DELAY = "urn:xmpp:delay"

Stanza = ET.Element
Predicate = Callable[[ET.Element], bool]


def bare(jid: str) -> str:
    return jid.split("/", 1)[0]


def local_name(element: ET.Element) -> str:
    return element.tag.split("}", 1)[-1]


def describe(element: ET.Element) -> str:
    return ET.tostring(element, encoding="unicode")


def stanza_error(element: ET.Element) -> tuple[str | None, str | None]:
    """(defined condition, text) of a stanza's <error/>, or (None, None)."""
    error = element.find(f"{{{NS_CLIENT}}}error")
    if error is None:
        return None, None
    condition = text = None
    for child in error:
        if child.tag == f"{{{NS_STANZAS}}}text":
            text = child.text or ""
        elif child.tag.startswith("{" + NS_STANZAS + "}"):
            condition = local_name(child)
    return condition, text


def is_message(sender: str | None = None, body: str | None = None, type_: str | None = None) -> Predicate:
    """A <message/> (optionally from this bare or full JID, with this body, of this type)."""

    def match(el: ET.Element) -> bool:
        if el.tag != f"{{{NS_CLIENT}}}message":
            return False
        if sender is not None and el.get("from", "") != sender and bare(el.get("from", "")) != sender:
            return False
        if type_ is not None and el.get("type", "normal") != type_:
            return False
        if body is not None and el.findtext(f"{{{NS_CLIENT}}}body") != body:
            return False
        return True

    return match


def is_presence(sender: str | None = None, type_: str | None = "available") -> Predicate:
    """A <presence/> from this JID (bare or full) of this type ("available" = no type attribute;
    None = any type)."""

    def match(el: ET.Element) -> bool:
        if el.tag != f"{{{NS_CLIENT}}}presence":
            return False
        if sender is not None and el.get("from", "") != sender and bare(el.get("from", "")) != sender:
            return False
        return type_ is None or el.get("type", "available") == type_

    return match


def is_roster_push(item_jid: str | None = None) -> Predicate:
    """A roster push (<iq type='set'><query xmlns='jabber:iq:roster'>) naming `item_jid`."""

    def match(el: ET.Element) -> bool:
        if el.tag != f"{{{NS_CLIENT}}}iq" or el.get("type") != "set":
            return False
        query = el.find(f"{{{NS_ROSTER}}}query")
        if query is None:
            return False
        return item_jid is None or any(item.get("jid") == item_jid for item in query.findall(f"{{{NS_ROSTER}}}item"))

    return match


def data_form(fields: dict[str, str | list[str]], form_type: str | None = None, type_: str = "submit") -> str:
    """An x:data form as XML text; FORM_TYPE first when given."""
    parts = [f"<x xmlns='{NS_DATA}' type={quoteattr(type_)}>"]
    if form_type is not None:
        parts.append(f"<field var='FORM_TYPE' type='hidden'><value>{escape(form_type)}</value></field>")
    for var, value in fields.items():
        values = value if isinstance(value, list) else [value]
        parts.append(f"<field var={quoteattr(var)}>" + "".join(f"<value>{escape(v)}</value>" for v in values) + "</field>")
    parts.append("</x>")
    return "".join(parts)


def form_fields(x: ET.Element) -> dict[str, ET.Element]:
    """var -> <field/> of an x:data form."""
    return {field.get("var", ""): field for field in x.findall(f"{{{NS_DATA}}}field")}


def field_values(field: ET.Element) -> list[str]:
    return [value.text or "" for value in field.findall(f"{{{NS_DATA}}}value")]


def form_items(x: ET.Element) -> list[dict[str, list[str]]]:
    """The <item/> rows of a result form as var -> values."""
    return [
        {field.get("var", ""): field_values(field) for field in item.findall(f"{{{NS_DATA}}}field")}
        for item in x.findall(f"{{{NS_DATA}}}item")
    ]


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
        # Every stanza the server sends, as received (before slixmpp's handlers see it), in
        # order: tests wait on this list with predicates.
        self.received: list[ET.Element] = []
        self._arrived = asyncio.Event()
        self._xmpp.incoming_filter = self._record
        self._ids = 0

    def _record(self, xml: ET.Element) -> ET.Element:
        self.received.append(copy.deepcopy(xml))
        self._arrived.set()
        return xml

    def set_auto_subscription(self, authorize: bool, subscribe: bool | None = None) -> None:
        """Whether slixmpp answers subscription requests itself (its default: approve and ask back)."""
        self._xmpp.roster.auto_authorize = authorize
        self._xmpp.roster.auto_subscribe = authorize if subscribe is None else subscribe

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
        # Several clients may live in one test, each with its own loop.
        asyncio.set_event_loop(self._loop)
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
        asyncio.set_event_loop(self._loop)  # stanza.send() makes its future on the current loop
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


    # --- stanzas in and out ------------------------------------------------------------

    def new_id(self, prefix: str = "t") -> str:
        self._ids += 1
        return f"{prefix}-{self._ids}-{int(time.monotonic() * 1000) % 100000}"

    def pump(self, seconds: float = 0.05) -> None:
        """Let the client's loop run a while: flush writes, read what arrived."""
        self._run(asyncio.sleep(seconds), "pumping the event loop", timeout=seconds + 5)

    def send_raw(self, xml: str) -> None:
        """Send XML text as it is on the c2s stream."""
        self._xmpp.send_raw(xml)
        self.pump(0.02)

    def mark(self) -> int:
        """A position in `received`: pass as `since` to wait only for stanzas that arrive later."""
        return len(self.received)

    def wait_for(self, predicate: Predicate, what: str, timeout: float | None = None, since: int = 0) -> ET.Element:
        """The first stanza received at or after position `since` that matches; waits (bounded)."""
        timeout = self.timeout if timeout is None else timeout

        async def scan() -> ET.Element:
            position = since
            while True:
                while position < len(self.received):
                    element = self.received[position]
                    position += 1
                    if predicate(element):
                        return element
                self._arrived.clear()
                await self._arrived.wait()

        try:
            return self._run(scan(), what, timeout=timeout)
        except TimeoutError:
            seen = "\n".join(describe(el) for el in self.received[since:][-15:]) or "<nothing>"
            raise TimeoutError(f"{self.jid}: no stanza within {timeout:g}s: {what}\nlast stanzas received:\n{seen}") from None

    def find_all(self, predicate: Predicate, since: int = 0) -> list[ET.Element]:
        return [el for el in self.received[since:] if predicate(el)]

    def collect(self, predicate: Predicate, count: int, what: str, timeout: float, since: int = 0,
                progress_timeout: float | None = None) -> list[ET.Element]:
        """Wait until `count` matching stanzas have arrived since `since` (or the timeout passes,
        or nothing new matches for `progress_timeout`); return those seen, possibly fewer."""
        deadline = time.monotonic() + timeout
        last_count, last_change = -1, time.monotonic()
        while True:
            found = self.find_all(predicate, since)
            now = time.monotonic()
            if len(found) != last_count:
                last_count, last_change = len(found), now
            if len(found) >= count or now >= deadline:
                return found
            if progress_timeout is not None and now - last_change >= progress_timeout:
                return found
            self.pump(min(0.1, max(0.0, deadline - now)))

    def presence(self, to: str | None = None, type_: str | None = None, status: str | None = None,
                  extra: str = "") -> None:
        """Send presence: broadcast (to=None) or directed; type None = available."""
        attrs = ""
        if to is not None:
            attrs += f" to={quoteattr(to)}"
        if type_ is not None:
            attrs += f" type={quoteattr(type_)}"
        inner = (f"<status>{escape(status)}</status>" if status else "") + extra
        self.send_raw(f"<presence{attrs}>{inner}</presence>")

    def go_online(self) -> list[dict[str, str]]:
        """What a real client does after login: fetch the roster (so roster pushes and subscription
        requests reach this session) and send initial presence. Returns the roster."""
        items = self.roster()
        self.presence()
        return items

    def roster(self) -> list[dict[str, str]]:
        """The roster as the server has it now (a fresh jabber:iq:roster get): one dict per item
        with jid, name, subscription, ask, and groups (comma-joined)."""
        reply = self.iq_to_server(f"<query xmlns='{NS_ROSTER}'/>")
        reply.expect_result("roster get")
        query = reply.child(NS_ROSTER)
        items = []
        for item in (query.findall(f"{{{NS_ROSTER}}}item") if query is not None else []):
            entry = {key: item.get(key, "") for key in ("jid", "name", "subscription", "ask")}
            entry["groups"] = ",".join(g.text or "" for g in item.findall(f"{{{NS_ROSTER}}}group"))
            items.append(entry)
        return items

    def iq_to_server(self, payload: str, iq_type: str = "get", timeout: float | None = None) -> IqReply:
        """An IQ to the user's own account (no `to`), e.g. a roster get."""
        timeout = self.timeout if timeout is None else timeout
        stanza = self._xmpp.Iq()
        stanza["type"] = iq_type
        stanza["id"] = self._xmpp.new_id()
        stanza.append(ET.fromstring(payload))
        asyncio.set_event_loop(self._loop)  # stanza.send() makes its future on the current loop
        try:
            reply = self._run(stanza.send(timeout=timeout), f"<iq type='{iq_type}'>{payload}", timeout=timeout + 1)
        except IqError as err:
            reply = err.iq
        except IqTimeout:
            raise TimeoutError(f"{self.jid}: no answer within {timeout:g}s to {payload}") from None
        return IqReply(reply.xml)

    def send_message(self, to: str, body: str, receipt: bool = True, msg_id: str | None = None,
                      type_: str = "chat") -> str:
        """A chat message, with a XEP-0184 receipt request by default. Returns its id."""
        msg_id = msg_id or self.new_id("msg")
        request = f"<request xmlns='{NS_RECEIPTS}'/>" if receipt else ""
        self.send_raw(
            f"<message to={quoteattr(to)} type={quoteattr(type_)} id={quoteattr(msg_id)}>"
            f"<body>{escape(body)}</body>{request}</message>"
        )
        return msg_id

    # --- XEP-0077 registration ------------------------------------------------------

    def register_form(self, gateway: str) -> IqReply:
        return self.iq(gateway, f"<query xmlns='{NS_REGISTER}'/>")

    def register_legacy(self, gateway: str, fields: dict[str, str], timeout: float | None = None) -> IqReply:
        """A registration with XEP-0077's legacy fields, e.g. {"phone": ..., "username": ..., "password": ...}."""
        inner = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in fields.items())
        return self.iq(gateway, f"<query xmlns='{NS_REGISTER}'>{inner}</query>", iq_type="set", timeout=timeout)

    def register_form_submit(self, gateway: str, fields: dict[str, str], timeout: float | None = None) -> IqReply:
        """A registration with an x:data submit (FORM_TYPE jabber:iq:register)."""
        form = data_form(fields, form_type=NS_REGISTER)
        return self.iq(gateway, f"<query xmlns='{NS_REGISTER}'>{form}</query>", iq_type="set", timeout=timeout)

    def unregister(self, gateway: str, timeout: float | None = None) -> IqReply:
        return self.iq(gateway, f"<query xmlns='{NS_REGISTER}'><remove/></query>", iq_type="set", timeout=timeout)

    # --- XEP-0050 ad-hoc commands ---------------------------------------------------

    def command(self, to: str, node: str, action: str = "execute", session: str | None = None,
                 form: dict[str, str | list[str]] | None = None) -> IqReply:
        attrs = f" node={quoteattr(node)} action={quoteattr(action)}"
        if session is not None:
            attrs += f" sessionid={quoteattr(session)}"
        inner = data_form(form) if form is not None else ""
        return self.iq(to, f"<command xmlns='{NS_COMMANDS}'{attrs}>{inner}</command>", iq_type="set")


def quiet_slixmpp() -> None:
    """slixmpp logs every reconnect attempt at WARNING/ERROR; keep failure output readable."""
    logging.getLogger("slixmpp").setLevel(logging.CRITICAL)
