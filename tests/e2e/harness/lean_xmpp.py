"""A lean asyncio XMPP c2s client for benchmarks: hundreds of sessions in one process.

slixmpp costs too much per session to keep 350 of them in one process; this client does only
what a benchmark needs, but does it properly: stream header, SASL PLAIN (loopback Prosody
without TLS, see prosody.py), stream restart, resource binding, session, then stanzas. Stanzas
are parsed with ElementTree's pull parser (expat, in C); each top-level stanza is handed to
`on_stanza` callbacks and to waiters, and IQ replies resolve the futures of `iq()`.

Every wait is bounded (`timeout`) and raises TimeoutError saying what it waited for.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import xml.etree.ElementTree as ET
from typing import Callable
from xml.sax.saxutils import escape, quoteattr

NS_CLIENT = "jabber:client"
NS_STREAM = "http://etherx.jabber.org/streams"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_SESSION = "urn:ietf:params:xml:ns:xmpp-session"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_COMMANDS = "http://jabber.org/protocol/commands"
NS_DATA = "jabber:x:data"
NS_REGISTER = "jabber:iq:register"
NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = "http://jabber.org/protocol/muc#user"

TAG_MESSAGE = f"{{{NS_CLIENT}}}message"
TAG_PRESENCE = f"{{{NS_CLIENT}}}presence"
TAG_IQ = f"{{{NS_CLIENT}}}iq"
TAG_BODY = f"{{{NS_CLIENT}}}body"

Predicate = Callable[[ET.Element], bool]
_ids = itertools.count(1)


class XmppFailure(Exception):
    """Login failed, the stream was closed, or an IQ came back as an error."""


def describe(element: ET.Element) -> str:
    return ET.tostring(element, encoding="unicode")


def error_condition(element: ET.Element) -> str | None:
    """The defined condition of a stanza's <error/> ("service-unavailable"…), or None."""
    error = element.find(f"{{{NS_CLIENT}}}error")
    if error is None:
        return None
    for child in error:
        if child.tag.startswith("{" + NS_STANZAS + "}") and not child.tag.endswith("}text"):
            return child.tag.split("}", 1)[1]
    return "undefined-condition"


def data_form(fields: dict[str, str | list[str]]) -> str:
    """An x:data submit form; a list value gives one <value/> each (an empty list: none)."""
    parts = [f"<x xmlns='{NS_DATA}' type='submit'>"]
    for var, value in fields.items():
        values = value if isinstance(value, list) else [value]
        parts.append(f"<field var={quoteattr(var)}>" + "".join(f"<value>{escape(v)}</value>" for v in values) + "</field>")
    parts.append("</x>")
    return "".join(parts)


class LeanXmpp:
    """One c2s session: `await connect()`, then send stanzas, `iq()`, `wait_for()`."""

    def __init__(self, host: str, port: int, jid: str, password: str, resource: str = "bench"):
        self.host, self.port = host, port
        self.bare = jid
        self.user, self.domain = jid.split("@", 1)
        self.password = password
        self.resource = resource
        self.full_jid = f"{jid}/{resource}"
        self.on_stanza: list[Callable[[ET.Element], None]] = []
        self._waiters: list[tuple[Predicate, asyncio.Future]] = []
        self._pending: dict[str, asyncio.Future] = {}
        self._stream_events: asyncio.Queue[ET.Element] = asyncio.Queue()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task | None = None
        self._closed: Exception | None = None
        self._new_parser()

    # --- the stream ------------------------------------------------------------------

    def _new_parser(self) -> None:
        self._parser = ET.XMLPullParser(events=("start", "end"))
        self._depth = 0
        self._root: ET.Element | None = None

    def _header(self) -> str:
        return (f"<?xml version='1.0'?><stream:stream xmlns='{NS_CLIENT}' xmlns:stream='{NS_STREAM}' "
                f"to={quoteattr(self.domain)} version='1.0'>")

    async def connect(self, timeout: float = 20.0) -> LeanXmpp:
        try:
            self._reader, self._writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), timeout)
            self._task = asyncio.create_task(self._read_loop())
            await asyncio.wait_for(self._login(), timeout)
        except asyncio.TimeoutError:
            self.abort()
            raise TimeoutError(f"{self.bare}: no login within {timeout:g}s") from None
        except BaseException:
            self.abort()
            raise
        return self

    async def _stream_event(self, what: str) -> ET.Element:
        element = await self._stream_events.get()
        if element.tag == f"{{{NS_STREAM}}}error" or element.tag == "closed":
            raise XmppFailure(f"{self.bare}: stream closed while waiting for {what}: {describe(element)}")
        return element

    async def _login(self) -> None:
        self.send_raw(self._header())
        features = await self._stream_event("stream features")
        mechanisms = [m.text for m in features.iter(f"{{{NS_SASL}}}mechanism")]
        if "PLAIN" not in mechanisms:
            raise XmppFailure(f"{self.bare}: the server offers no SASL PLAIN ({mechanisms})")
        token = base64.b64encode(f"\0{self.user}\0{self.password}".encode()).decode()
        self.send_raw(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{token}</auth>")
        outcome = await self._stream_event("the SASL outcome")
        if outcome.tag != f"{{{NS_SASL}}}success":
            raise XmppFailure(f"{self.bare}: authentication failed: {describe(outcome)}")
        # The read loop started a new parser on <success/>; the server waits for our new header.
        self.send_raw(self._header())
        features = await self._stream_event("stream features after authentication")
        if features.find(f"{{{NS_BIND}}}bind") is None:
            raise XmppFailure(f"{self.bare}: no resource binding offered: {describe(features)}")
        reply = await self.iq(None, f"<bind xmlns='{NS_BIND}'><resource>{escape(self.resource)}</resource></bind>", "set")
        bound = reply.findtext(f".//{{{NS_BIND}}}jid")
        if bound:
            self.full_jid = bound
        session = features.find(f"{{{NS_SESSION}}}session")
        if session is not None and session.find(f"{{{NS_SESSION}}}optional") is None:
            await self.iq(None, f"<session xmlns='{NS_SESSION}'/>", "set")

    async def _read_loop(self) -> None:
        reason: Exception = XmppFailure(f"{self.bare}: the server closed the stream")
        try:
            while True:
                data = await self._reader.read(262144)
                if not data:
                    break
                self._feed(data)
        except (ConnectionError, ET.ParseError, OSError) as err:
            reason = XmppFailure(f"{self.bare}: stream failed: {err}")
        except asyncio.CancelledError:
            reason = XmppFailure(f"{self.bare}: closed")
        self._closed = reason
        self._stream_events.put_nowait(ET.Element("closed"))
        for future in list(self._pending.values()) + [f for _, f in self._waiters]:
            if not future.done():
                future.set_exception(reason)

    def _feed(self, data: bytes) -> None:
        self._parser.feed(data)
        for event, element in self._parser.read_events():
            if event == "start":
                self._depth += 1
                if self._depth == 1:
                    self._root = element
                continue
            self._depth -= 1
            if self._depth != 1:
                continue
            self._root.remove(element)  # keep memory flat: the stream root holds no stanzas
            tag = element.tag
            if tag in (TAG_MESSAGE, TAG_PRESENCE, TAG_IQ):
                self._stanza(element)
            else:
                self._stream_events.put_nowait(element)
                if tag == f"{{{NS_SASL}}}success":
                    self._new_parser()  # the stream restarts; the rest of this chunk is empty
                    return

    def _stanza(self, element: ET.Element) -> None:
        tag = element.tag
        if tag == TAG_IQ:
            kind = element.get("type")
            if kind in ("result", "error"):
                future = self._pending.pop(element.get("id", ""), None)
                if future is not None and not future.done():
                    future.set_result(element)
                return
            # Answer every request, as a client must: we implement nothing.
            self.send_raw(f"<iq type='error' to={quoteattr(element.get('from', ''))} id={quoteattr(element.get('id', ''))}>"
                          f"<error type='cancel'><service-unavailable xmlns='{NS_STANZAS}'/></error></iq>")
            return
        for callback in self.on_stanza:
            callback(element)
        if self._waiters:
            keep = []
            for predicate, future in self._waiters:
                if future.done():
                    continue
                if predicate(element):
                    future.set_result(element)
                else:
                    keep.append((predicate, future))
            self._waiters = keep

    # --- sending ---------------------------------------------------------------------

    def send_raw(self, xml: str) -> None:
        if self._closed is not None:
            raise self._closed
        self._writer.write(xml.encode())

    async def drain(self) -> None:
        await self._writer.drain()

    async def iq(self, to: str | None, payload: str, iq_type: str = "get", timeout: float = 30.0) -> ET.Element:
        """Send an IQ and return the result; raises XmppFailure on an error reply."""
        iq_id = f"i{next(_ids)}"
        future = asyncio.get_running_loop().create_future()
        self._pending[iq_id] = future
        to_attr = f" to={quoteattr(to)}" if to else ""
        self.send_raw(f"<iq type={quoteattr(iq_type)} id='{iq_id}'{to_attr}>{payload}</iq>")
        try:
            reply = await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"{self.bare}: no answer within {timeout:g}s to <iq to='{to}'>{payload}") from None
        finally:
            self._pending.pop(iq_id, None)
        if reply.get("type") == "error":
            raise XmppFailure(f"{self.bare}: <iq to='{to}'>{payload[:200]} failed ({error_condition(reply)}): {describe(reply)}")
        return reply

    def expect(self, predicate: Predicate) -> asyncio.Future:
        """A future for the next message or presence matching `predicate`: register it before
        sending what provokes the stanza, then `wait()` on it."""
        future = asyncio.get_running_loop().create_future()
        if self._closed is not None:
            future.set_exception(self._closed)
        else:
            self._waiters.append((predicate, future))
        return future

    async def wait(self, future: asyncio.Future, what: str, timeout: float = 30.0) -> ET.Element:
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"{self.bare}: nothing within {timeout:g}s: {what}") from None

    async def wait_for(self, predicate: Predicate, what: str, timeout: float = 30.0) -> ET.Element:
        """The next message or presence that matches (stanzas that arrived earlier are not seen)."""
        return await self.wait(self.expect(predicate), what, timeout)

    def presence(self, to: str | None = None, type_: str | None = None, inner: str = "") -> None:
        attrs = (f" to={quoteattr(to)}" if to else "") + (f" type={quoteattr(type_)}" if type_ else "")
        self.send_raw(f"<presence{attrs}>{inner}</presence>")

    def message_xml(self, to: str, body: str, msg_id: str, type_: str = "chat") -> str:
        return f"<message to={quoteattr(to)} type='{type_}' id={quoteattr(msg_id)}><body>{escape(body)}</body></message>"

    # --- XEP-0077 and XEP-0050 ---------------------------------------------------------

    async def register(self, gateway: str, fields: dict[str, str], timeout: float = 30.0) -> ET.Element:
        inner = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in fields.items())
        return await self.iq(gateway, f"<query xmlns='{NS_REGISTER}'>{inner}</query>", "set", timeout)

    async def run_command(self, to: str, node: str, fields: dict[str, str | list[str]], timeout: float = 30.0) -> ET.Element:
        """Execute an ad-hoc command and submit `fields` to its form: the final result."""
        first = await self.iq(to, f"<command xmlns='{NS_COMMANDS}' node={quoteattr(node)} action='execute'/>", "set", timeout)
        command = first.find(f"{{{NS_COMMANDS}}}command")
        if command is None or command.get("status") == "completed":
            raise XmppFailure(f"{self.bare}: command {node} on {to} gave no form: {describe(first)}")
        session = command.get("sessionid", "")
        return await self.iq(
            to,
            f"<command xmlns='{NS_COMMANDS}' node={quoteattr(node)} sessionid={quoteattr(session)} action='complete'>"
            f"{data_form(fields)}</command>",
            "set",
            timeout,
        )

    # --- closing ---------------------------------------------------------------------

    async def close(self, timeout: float = 3.0) -> None:
        if self._writer is None:
            return
        try:
            if self._closed is None:
                self._writer.write(b"<presence type='unavailable'/></stream:stream>")
                await asyncio.wait_for(self._writer.drain(), timeout)
        except (OSError, asyncio.TimeoutError, ConnectionError):
            pass
        self.abort()

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._task is not None and not self._task.done():
            self._task.cancel()
