"""The SMS bridge end to end: a real Prosody, the stub carrier over real HTTP, slixmpp users.

Each test builds its own world (sms_gateway fixture): Prosody with the component
sms.localhost, `causeway sms-stub` with two carrier accounts, causeway with an `sms` bridge.
"""

from __future__ import annotations

import time

import pytest

from harness.sms_gateway import ALICE_SUB, BOB_SUB, SMS_DOMAIN, WEBHOOK_SECRET, Subscriber, contact_jid
from harness.sms_stub import message_webhook, post_webhook, signature, signed_headers
from harness.xmpp_client import (
    NS_COMMANDS,
    NS_DATA,
    NS_DISCO_ITEMS,
    NS_GATEWAY,
    NS_NICK,
    NS_RECEIPTS,
    NS_REGISTER,
    bare,
    describe,
    field_values,
    form_fields,
    form_items,
    is_message,
    is_presence,
    is_roster_push,
    stanza_error,
)

ALICE = "alice@localhost"
BOB = "bob@localhost"
ADMIN = "admin@localhost"
PEER = "+15552223333"  # someone out on the phone network
PEER_JID = contact_jid(PEER)

# How long to look for something that must NOT arrive.
QUIET = 2.0


def text_of(element) -> str:
    return (element.text or "").strip() if element is not None else ""


def assert_error(element, condition: str, *words: str) -> str:
    """The stanza is an error with this condition and a text naming one of `words` (any case)."""
    got, text = stanza_error(element)
    assert element.get("type") == "error", f"expected an error, got {describe(element)}"
    assert got == condition, f"expected {condition}, got {got}: {describe(element)}"
    assert text, f"the {condition} error has no text: {describe(element)}"
    if words:
        assert any(w.lower() in text.lower() for w in words), f"error text {text!r} names none of {words}"
    return text


# --- XEP-0077 registration -----------------------------------------------------------------


def test_registration_form_has_legacy_fields_and_a_data_form(sms_gateway, connect_client):
    gw = sms_gateway()
    alice = connect_client(gw.prosody)

    query = gw.registration_query(alice)
    assert query.find(f"{{{NS_REGISTER}}}registered") is None, f"alice is not registered yet: {describe(query)}"
    assert text_of(query.find(f"{{{NS_REGISTER}}}instructions")), f"no <instructions/>: {describe(query)}"
    for legacy in ("phone", "username", "password"):
        assert query.find(f"{{{NS_REGISTER}}}{legacy}") is not None, f"no legacy <{legacy}/> field: {describe(query)}"

    form = query.find(f"{{{NS_DATA}}}x")
    assert form is not None, f"no x:data form: {describe(query)}"
    assert form.get("type") == "form", f"x:data type: {describe(form)}"
    fields = form_fields(form)
    assert field_values(fields.get("FORM_TYPE", form)) == [NS_REGISTER], f"FORM_TYPE: {describe(form)}"
    for var in ("phone", "account", "token"):
        assert var in fields, f"form lacks field {var!r}: {sorted(fields)}"
    assert fields["token"].get("type") == "text-private", f"token must be text-private: {describe(fields['token'])}"
    assert not field_values(fields["token"]), "an unregistered form must not carry a token value"


def test_register_with_legacy_fields_then_get_shows_registered_without_token(sms_gateway, connect_client):
    gw = sms_gateway()
    alice = connect_client(gw.prosody)

    gw.register(alice, ALICE_SUB).expect_result("legacy registration")

    query = gw.registration_query(alice)
    assert query.find(f"{{{NS_REGISTER}}}registered") is not None, f"no <registered/> after registering: {describe(query)}"
    assert text_of(query.find(f"{{{NS_REGISTER}}}phone")) == ALICE_SUB.number, describe(query)
    assert text_of(query.find(f"{{{NS_REGISTER}}}username")) == ALICE_SUB.account, describe(query)
    assert ALICE_SUB.token not in describe(query), f"the token is echoed back: {describe(query)}"
    form = query.find(f"{{{NS_DATA}}}x")
    if form is not None:
        fields = form_fields(form)
        assert field_values(fields["phone"]) == [ALICE_SUB.number], describe(form)
        assert field_values(fields["account"]) == [ALICE_SUB.account], describe(form)
        assert not any(field_values(fields["token"])), f"the form carries the token: {describe(form)}"


def test_register_with_data_form_normalises_a_national_number(sms_gateway, connect_client):
    gw = sms_gateway()
    alice = connect_client(gw.prosody)

    # default_country_code = "1": a national number is stored in E.164.
    gw.register(alice, ALICE_SUB, form=True, phone="(555) 000-1111").expect_result("x:data registration")

    query = gw.registration_query(alice)
    assert query.find(f"{{{NS_REGISTER}}}registered") is not None, describe(query)
    assert text_of(query.find(f"{{{NS_REGISTER}}}phone")) == "+15550001111", describe(query)


@pytest.mark.parametrize(
    ("what", "sub", "words"),
    [
        ("a malformed number", Subscriber("acct-1", "tok-1-secret", "12"), ("phone", "number")),
        ("a wrong token", Subscriber("acct-1", "not-the-token", "+15550001111"), ("token",)),
        ("a number the account lacks", Subscriber("acct-2", "tok-2-secret", "+15550001111"), ("phone", "number", "+15550001111")),
    ],
)
def test_registration_errors_are_not_acceptable_and_name_the_field(sms_gateway, connect_client, what, sub, words):
    gw = sms_gateway()
    alice = connect_client(gw.prosody)

    reply = gw.register(alice, sub)
    assert reply.type == "error", f"{what} was accepted: {reply.describe()}"
    assert_error(reply.xml, "not-acceptable", *words)

    query = gw.registration_query(alice)
    assert query.find(f"{{{NS_REGISTER}}}registered") is None, f"{what} left a registration: {describe(query)}"


def test_gateway_subscribes_to_the_user_after_registering(sms_gateway, connect_client):
    gw = sms_gateway()
    alice = connect_client(gw.prosody)
    alice.go_online()

    subscribe = gw.register_ok(alice, ALICE_SUB)
    assert bare(subscribe.get("to", ALICE)) == ALICE, describe(subscribe)

    # slixmpp approves and asks back (as clients do); the gateway approves in turn, so the
    # gateway ends up in the roster with a mutual subscription.
    def mutual():
        return any(item["jid"] == SMS_DOMAIN and item["subscription"] == "both" for item in alice.roster())

    deadline = time.monotonic() + 10
    while not mutual():
        assert time.monotonic() < deadline, f"no mutual subscription with {SMS_DOMAIN}: roster {alice.roster()}"
        alice.pump(0.2)


def test_allowed_domains_admits_another_domain(sms_gateway, connect_client):
    gw = sms_gateway(extra_hosts=["elsewhere.localhost"], allowed_domains=["localhost", "elsewhere.localhost"])
    carol = connect_client(gw.prosody, "carol@elsewhere.localhost")

    gw.register(carol, BOB_SUB).expect_result("registration from a domain listed in allowed_domains")


def test_registration_from_a_foreign_domain_is_forbidden(sms_gateway, connect_client):
    gw = sms_gateway(extra_hosts=["elsewhere.localhost"])
    carol = connect_client(gw.prosody, "carol@elsewhere.localhost")

    reply = gw.register(carol, BOB_SUB)
    assert reply.type == "error", f"a user of a domain not in allowed_domains registered: {reply.describe()}"
    assert reply.condition == "forbidden", reply.describe()


def test_two_users_cannot_claim_one_number(sms_gateway, connect_client):
    gw = sms_gateway()
    alice = connect_client(gw.prosody)
    bob = connect_client(gw.prosody, BOB)

    gw.register(alice, ALICE_SUB).expect_result("alice registers")
    # acct-1 really holds the number, so only the gateway can refuse this.
    reply = gw.register(bob, ALICE_SUB)
    assert reply.type == "error", f"bob registered alice's number: {reply.describe()}"
    assert reply.condition == "conflict", reply.describe()
    assert gw.registration_query(bob).find(f"{{{NS_REGISTER}}}registered") is None


def test_unregister_cleans_up_and_allows_registering_again(sms_gateway, connect_client):
    gw = sms_gateway()
    alice = connect_client(gw.prosody)
    gw.registered_online(alice, ALICE_SUB)

    mark = alice.mark()
    alice.unregister(gw.domain).expect_result("unregister")
    for kind in ("unsubscribe", "unsubscribed", "unavailable"):
        alice.wait_for(is_presence(gw.domain, kind), f"<presence type='{kind}'> from {gw.domain} after unregistering", since=mark)
    query = gw.registration_query(alice)
    assert query.find(f"{{{NS_REGISTER}}}registered") is None, f"still registered: {describe(query)}"

    # The number is free again: a text to it finds nobody, and nothing reaches alice.
    mark = alice.mark()
    result = gw.stub.inbound(PEER, ALICE_SUB.number, "to nobody")
    assert not result.delivered, f"a text to an unregistered number was accepted: {result.describe()}"
    alice.pump(QUIET)
    assert not alice.find_all(is_message(body="to nobody"), since=mark), "a text reached an unregistered user"

    # ...and can be registered again, with the XEP-0100 subscription again.
    gw.register_ok(alice, ALICE_SUB)


# --- XEP-0100 presence ---------------------------------------------------------------------


def test_first_available_presence_logs_in_and_last_unavailable_logs_out(sms_gateway, connect_client):
    gw = sms_gateway()
    alice = connect_client(gw.prosody)
    alice.go_online()
    gw.register_ok(alice, ALICE_SUB)

    gw.log_in(alice)
    mark = alice.mark()
    alice.presence(to=gw.domain, type_="unavailable")
    alice.wait_for(is_presence(gw.domain, "unavailable"), f"unavailable from {gw.domain} after the last unavailable", since=mark)


def test_registration_survives_restart_with_presence_on_start_and_shutdown(sms_gateway, connect_client):
    gw = sms_gateway()
    alice = connect_client(gw.prosody)
    gw.registered_online(alice, ALICE_SUB)

    mark, log_mark = alice.mark(), gw.causeway.log_mark()
    gw.causeway.stop()
    assert not gw.causeway.needed_kill, "causeway did not stop on SIGTERM"
    alice.wait_for(is_presence(gw.domain, "unavailable"), f"unavailable from {gw.domain} on shutdown", since=mark)

    mark = alice.mark()
    gw.causeway.start()
    gw.wait_ready(since=log_mark)
    alice.wait_for(is_presence(gw.domain, "available"), f"available from {gw.domain} after the daemon started", since=mark)

    query = gw.registration_query(alice)
    assert query.find(f"{{{NS_REGISTER}}}registered") is not None, f"registration lost in a restart: {describe(query)}"
    assert text_of(query.find(f"{{{NS_REGISTER}}}phone")) == ALICE_SUB.number, describe(query)


# --- texts out -----------------------------------------------------------------------------


def test_sent_message_reaches_the_carrier(sms_gateway, connect_client):
    gw = sms_gateway()
    alice = connect_client(gw.prosody)
    gw.registered_online(alice, ALICE_SUB)

    alice.send_message(PEER_JID, "hello from xmpp")
    item = gw.stub.wait_sent(lambda m: m["text"] == "hello from xmpp", "the text at the carrier", to=PEER)
    assert item["from"] == ALICE_SUB.number, f"sent from the wrong number: {item}"
    assert item["to"] == PEER, f"sent to the wrong number: {item}"


def test_delivery_report_becomes_a_receipt(sms_gateway, connect_client):
    gw = sms_gateway()
    alice = connect_client(gw.prosody)
    gw.registered_online(alice, ALICE_SUB)

    mark = alice.mark()
    msg_id = alice.send_message(PEER_JID, "please confirm", receipt=True)

    def is_receipt(el) -> bool:
        received = el.find(f"{{{NS_RECEIPTS}}}received")
        return is_message(PEER_JID)(el) and received is not None

    receipt = alice.wait_for(is_receipt, f"a receipt from {PEER_JID}", timeout=20, since=mark)
    assert receipt.find(f"{{{NS_RECEIPTS}}}received").get("id") == msg_id, f"receipt for the wrong id: {describe(receipt)}"
    assert receipt.get("type") != "error", describe(receipt)


def test_bounced_text_comes_back_as_an_error(sms_gateway, connect_client):
    gw = sms_gateway()
    alice = connect_client(gw.prosody)
    gw.registered_online(alice, ALICE_SUB)
    bouncing = "+15552224444"
    gw.stub.set_failures(bounce_numbers=[bouncing])

    mark = alice.mark()
    msg_id = alice.send_message(contact_jid(bouncing), "this will bounce")
    error = alice.wait_for(is_message(contact_jid(bouncing), type_="error"), "the bounce as an error", timeout=20, since=mark)
    assert error.get("id") == msg_id, f"the error names another message: {describe(error)}"
    # The carrier's own sentence (the stub says "Number unreachable").
    assert_error(error, "recipient-unavailable", "unreachable")
    assert not alice.find_all(lambda el: el.find(f"{{{NS_RECEIPTS}}}received") is not None, since=mark), "a bounced text got a receipt"


def test_unroutable_number_is_refused_with_the_carriers_text(sms_gateway, connect_client):
    gw = sms_gateway()
    alice = connect_client(gw.prosody)
    gw.registered_online(alice, ALICE_SUB)
    unroutable = "+15552225555"
    gw.stub.set_failures(unroutable_numbers=[unroutable])

    mark = alice.mark()
    msg_id = alice.send_message(contact_jid(unroutable), "nowhere to go")
    error = alice.wait_for(is_message(contact_jid(unroutable), type_="error"), "an error for a refused text", timeout=20, since=mark)
    assert error.get("id") == msg_id, describe(error)
    # The stub refuses with 422 unroutable, "The carrier cannot route messages to +1…".
    text = assert_error(error, "not-acceptable", "cannot route")
    assert unroutable in text, f"the error text should carry the carrier's sentence: {text!r}"


def test_text_longer_than_max_segments_is_refused_not_cut(sms_gateway, connect_client):
    gw = sms_gateway(carrier={"max_segments": 2})
    alice = connect_client(gw.prosody)
    gw.registered_online(alice, ALICE_SUB)

    mark = alice.mark()
    msg_id = alice.send_message(PEER_JID, "x" * 400)  # GSM-7: 3 segments of 153
    error = alice.wait_for(is_message(PEER_JID, type_="error"), "an error for a too long text", since=mark)
    assert error.get("id") == msg_id, describe(error)
    assert_error(error, "not-acceptable", "segment")
    assert not gw.stub.sent(), f"a too long text reached the carrier: {gw.stub.sent()}"


def test_carrier_refusal_at_send_time_comes_back_as_an_error(sms_gateway, connect_client):
    gw = sms_gateway(carrier={"attempts": 2, "request_timeout_seconds": 3})
    alice = connect_client(gw.prosody)
    gw.registered_online(alice, ALICE_SUB)
    gw.stub.set_failures(server_errors=50)  # more than any retries

    mark = alice.mark()
    msg_id = alice.send_message(PEER_JID, "the carrier is down")
    error = alice.wait_for(is_message(PEER_JID, type_="error"), "an error for a refused text", timeout=30, since=mark)
    assert error.get("id") == msg_id, describe(error)
    _, text = stanza_error(error)
    assert text, f"the error has no text: {describe(error)}"


def test_message_from_an_unregistered_user_is_refused(sms_gateway, connect_client):
    gw = sms_gateway()
    bob = connect_client(gw.prosody, BOB)
    bob.go_online()

    mark = bob.mark()
    msg_id = bob.send_message(PEER_JID, "am I registered?")
    error = bob.wait_for(is_message(PEER_JID, type_="error"), "an error for an unregistered sender", since=mark)
    assert error.get("id") == msg_id, describe(error)
    assert_error(error, "registration-required")
    assert not gw.stub.sent(), f"an unregistered user's text reached the carrier: {gw.stub.sent()}"


def test_text_to_a_malformed_number_is_refused_with_text(sms_gateway, connect_client):
    gw = sms_gateway()
    alice = connect_client(gw.prosody)
    gw.registered_online(alice, ALICE_SUB)

    mark = alice.mark()
    bad = f"12@{SMS_DOMAIN}"
    msg_id = alice.send_message(bad, "to nowhere")
    error = alice.wait_for(is_message(bad, type_="error"), "an error for a malformed number", since=mark)
    assert error.get("id") == msg_id, describe(error)
    condition, text = stanza_error(error)
    assert condition in ("jid-malformed", "item-not-found", "not-acceptable"), describe(error)
    assert text, describe(error)
    assert not gw.stub.sent(), f"the carrier was asked to send to a malformed number: {gw.stub.sent()}"


# --- texts in ------------------------------------------------------------------------------


def test_inbound_text_reaches_the_user(sms_gateway, connect_client):
    gw = sms_gateway()
    alice = connect_client(gw.prosody)
    gw.registered_online(alice, ALICE_SUB)

    mark = alice.mark()
    result = gw.stub.inbound(PEER, ALICE_SUB.number, "hello from the phone")
    assert result.delivered, f"the webhook was not accepted: {result.describe()}"
    message = alice.wait_for(is_message(PEER_JID, body="hello from the phone"), "the inbound text", since=mark)
    assert message.get("type") == "chat", describe(message)
    assert bare(message.get("to", "")) == ALICE, describe(message)


def test_user_who_was_offline_gets_the_text_after_logging_in(sms_gateway, connect_client):
    gw = sms_gateway()
    alice = connect_client(gw.prosody)
    gw.registered_online(alice, ALICE_SUB)
    alice.close()

    result = gw.stub.inbound(PEER, ALICE_SUB.number, "while you were away")
    assert result.delivered, f"the webhook was not accepted for an offline user: {result.describe()}"
    time.sleep(1.0)  # let it reach Prosody's offline store

    alice = connect_client(gw.prosody)
    alice.go_online()
    message = alice.wait_for(is_message(PEER_JID, body="while you were away"), "the text stored while offline")
    assert message.get("type") == "chat", describe(message)


def test_unknown_sender_is_pushed_into_the_roster_with_privilege(sms_gateway, connect_client):
    gw = sms_gateway(privilege=True)
    gw.causeway.wait_for_log("roster privilege", "both")
    alice = connect_client(gw.prosody)
    gw.registered_online(alice, ALICE_SUB)

    stranger = "+15557778888"
    mark = alice.mark()
    gw.stub.inbound(stranger, ALICE_SUB.number, "who am i")
    push = alice.wait_for(is_roster_push(contact_jid(stranger)), f"a roster push adding {contact_jid(stranger)}", since=mark)
    alice.wait_for(is_message(contact_jid(stranger), body="who am i"), "the text", since=mark)
    items = {item["jid"]: item for item in alice.roster()}
    assert contact_jid(stranger) in items, f"not in the roster: {items}\npush: {describe(push)}"
    assert items[contact_jid(stranger)]["subscription"] in ("both", "to"), items[contact_jid(stranger)]
    assert not alice.find_all(is_presence(contact_jid(stranger), "subscribe"), since=mark), (
        "with the roster privilege the gateway should push, not ask for a subscription"
    )


def test_roster_push_still_used_after_prosody_restart(sms_gateway, connect_client):
    """The privilege is announced again on every new component connection; the gateway must
    still push (not fall back to subscription requests) after reconnecting."""
    gw = sms_gateway(privilege=True)
    alice = connect_client(gw.prosody)
    gw.registered_online(alice, ALICE_SUB)
    alice.close()

    log_mark = gw.causeway.log_mark()
    gw.prosody.restart()
    gw.wait_link(since=log_mark, timeout=30)
    gw.causeway.wait_for_log("roster privilege", "both", since=log_mark)
    alice = connect_client(gw.prosody)
    alice.go_online()
    alice.pump(1.0)  # the gateway's probe and presence exchange after reconnecting

    stranger = "+15557776666"
    mark = alice.mark()
    gw.stub.inbound(stranger, ALICE_SUB.number, "after the restart")
    alice.wait_for(is_message(contact_jid(stranger), body="after the restart"), "the text", since=mark)
    alice.wait_for(is_roster_push(contact_jid(stranger)), f"a roster push adding {contact_jid(stranger)}", since=mark)
    assert not alice.find_all(is_presence(contact_jid(stranger), "subscribe"), since=mark), (
        "after reconnecting the gateway asked for a subscription although it holds the roster privilege"
    )


def test_unknown_sender_asks_for_subscription_without_privilege(sms_gateway, connect_client):
    gw = sms_gateway(privilege=False)
    alice = connect_client(gw.prosody)
    gw.registered_online(alice, ALICE_SUB)

    stranger = "+15557779999"
    mark = alice.mark()
    gw.stub.inbound(stranger, ALICE_SUB.number, "add me")
    subscribe = alice.wait_for(is_presence(contact_jid(stranger), "subscribe"), f"a subscription request from {contact_jid(stranger)}", since=mark)
    nick = subscribe.find(f"{{{NS_NICK}}}nick")
    assert text_of(nick), f"the subscription request carries no nick: {describe(subscribe)}"
    alice.wait_for(is_message(contact_jid(stranger), body="add me"), "the text", since=mark)


# --- webhooks ------------------------------------------------------------------------------


def test_forged_stale_and_replayed_webhooks_are_refused(sms_gateway, connect_client):
    gw = sms_gateway()
    alice = connect_client(gw.prosody)
    gw.registered_online(alice, ALICE_SUB)
    url = gw.webhook_url("inbound")
    mark = alice.mark()

    def body(text: str) -> bytes:
        return message_webhook(PEER, ALICE_SUB.number, text)

    unsigned = post_webhook(url, body("unsigned"), {"Content-Type": "application/json"})
    assert unsigned.status == 401, f"unsigned webhook: {unsigned.describe()}"

    forged_body = body("forged")
    headers = signed_headers("not-the-secret", forged_body)
    forged = post_webhook(url, forged_body, headers)
    assert forged.status == 403, f"webhook signed with another key: {forged.describe()}"

    tampered_body = body("tampered")
    headers = signed_headers(WEBHOOK_SECRET, body("original"))
    tampered = post_webhook(url, tampered_body, headers)
    assert tampered.status == 403, f"webhook whose body does not match its signature: {tampered.describe()}"

    stale_body = body("stale")
    stale = post_webhook(url, stale_body, signed_headers(WEBHOOK_SECRET, stale_body, timestamp=int(time.time()) - 600))
    assert stale.status == 403, f"webhook signed 600 s ago: {stale.describe()}"
    future_body = body("future")
    future = post_webhook(url, future_body, signed_headers(WEBHOOK_SECRET, future_body, timestamp=int(time.time()) + 600))
    assert future.status == 403, f"webhook signed 600 s in the future: {future.describe()}"

    good_body = body("genuine")
    good_headers = signed_headers(WEBHOOK_SECRET, good_body)
    good = post_webhook(url, good_body, good_headers)
    assert good.status == 200, f"a correctly signed webhook: {good.describe()}"
    replayed = post_webhook(url, good_body, good_headers)
    assert replayed.status == 403, f"the same signed request replayed: {replayed.describe()}"

    malformed_body = b'{"type": "message", "id": '
    malformed = post_webhook(url, malformed_body, signed_headers(WEBHOOK_SECRET, malformed_body))
    assert malformed.status == 400, f"signed malformed JSON: {malformed.describe()}"

    alice.wait_for(is_message(PEER_JID, body="genuine"), "the genuine text", since=mark)
    alice.pump(QUIET)
    bodies = [el.findtext("{jabber:client}body") for el in alice.find_all(is_message(PEER_JID), since=mark)]
    assert bodies == ["genuine"], f"only the genuine text may arrive, once; got {bodies}"


def test_carrier_retry_of_one_text_is_delivered_once(sms_gateway, connect_client):
    """A carrier retries a webhook with the same id (signed afresh): taken again (2xx), delivered once."""
    gw = sms_gateway()
    alice = connect_client(gw.prosody)
    gw.registered_online(alice, ALICE_SUB)
    url = gw.webhook_url("inbound")
    payload = message_webhook(PEER, ALICE_SUB.number, "only once", message_id="in_retried_0001")

    mark = alice.mark()
    first = post_webhook(url, payload, signed_headers(WEBHOOK_SECRET, payload))
    assert 200 <= first.status < 300, first.describe()
    # A second later, as a retry would be: a new timestamp, so a new signature (not a replay).
    retry = post_webhook(url, payload, signed_headers(WEBHOOK_SECRET, payload, timestamp=int(time.time()) + 1))
    assert 200 <= retry.status < 300, f"a retry of a text already taken must be acknowledged: {retry.describe()}"

    alice.wait_for(is_message(PEER_JID, body="only once"), "the text", since=mark)
    alice.pump(QUIET)
    copies = alice.find_all(is_message(PEER_JID, body="only once"), since=mark)
    assert len(copies) == 1, f"the retried text arrived {len(copies)} times"


def test_webhook_for_an_unknown_bridge_is_404(sms_gateway):
    gw = sms_gateway()
    payload = message_webhook(PEER, ALICE_SUB.number, "lost")
    answer = post_webhook(f"{gw.causeway.http_base_url}/webhooks/no-such-bridge/inbound", payload, signed_headers(WEBHOOK_SECRET, payload))
    assert answer.status == 404, answer.describe()


def test_signature_header_format_is_checked(sms_gateway, connect_client):
    """A signature without the v1= scheme, or a non-numeric timestamp, is refused too."""
    gw = sms_gateway()
    url = gw.webhook_url("inbound")
    payload = message_webhook(PEER, ALICE_SUB.number, "odd headers")
    now = int(time.time())
    bare_hex = signature(WEBHOOK_SECRET, now, payload).removeprefix("v1=")
    for headers in (
        {"X-Carrier-Timestamp": str(now), "X-Carrier-Signature": bare_hex},
        {"X-Carrier-Timestamp": "yesterday", "X-Carrier-Signature": signature(WEBHOOK_SECRET, "yesterday", payload)},
        {"X-Carrier-Signature": signature(WEBHOOK_SECRET, now, payload)},
    ):
        answer = post_webhook(url, payload, {"Content-Type": "application/json", **headers})
        assert answer.status in (401, 403), f"headers {headers}: {answer.describe()}"


# --- jabber:iq:gateway and ad-hoc commands ---------------------------------------------------


def test_jabber_iq_gateway_translates_a_phone_number(sms_gateway, connect_client):
    gw = sms_gateway()
    alice = connect_client(gw.prosody)

    reply = alice.iq(gw.domain, f"<query xmlns='{NS_GATEWAY}'/>").expect_result("jabber:iq:gateway get")
    query = reply.child(NS_GATEWAY)
    assert text_of(query.find(f"{{{NS_GATEWAY}}}desc")), f"no <desc/>: {reply.describe()}"
    assert text_of(query.find(f"{{{NS_GATEWAY}}}prompt")), f"no <prompt/>: {reply.describe()}"

    reply = alice.iq(gw.domain, f"<query xmlns='{NS_GATEWAY}'><prompt>+1 (555) 222-3333</prompt></query>", iq_type="set")
    reply.expect_result("jabber:iq:gateway set")
    assert text_of(reply.child(NS_GATEWAY).find(f"{{{NS_GATEWAY}}}jid")) == PEER_JID, reply.describe()

    bad = alice.iq(gw.domain, f"<query xmlns='{NS_GATEWAY}'><prompt>call me maybe</prompt></query>", iq_type="set")
    assert bad.type == "error", f"not a number, yet translated: {bad.describe()}"
    assert_error(bad.xml, "not-acceptable")


def command_form(reply) -> tuple[dict, object]:
    command = reply.child(NS_COMMANDS, "command")
    assert command is not None, f"no <command/>: {reply.describe()}"
    return command.attrib, command.find(f"{{{NS_DATA}}}x")


def test_admin_lists_users_and_others_may_not(sms_gateway, connect_client):
    gw = sms_gateway()
    alice = connect_client(gw.prosody)
    bob = connect_client(gw.prosody, BOB)
    admin = connect_client(gw.prosody, ADMIN)
    gw.register(alice, ALICE_SUB).expect_result("alice registers")
    gw.register(bob, BOB_SUB).expect_result("bob registers")

    nodes = {el.get("node") for el in admin.iq(gw.domain, f"<query xmlns='{NS_DISCO_ITEMS}' node='{NS_COMMANDS}'/>")
             .expect_result("admin's command list").child(NS_DISCO_ITEMS)}
    assert {"registration", "unregister", "list-users", "list-sessions", "announce"} <= nodes, nodes
    user_nodes = {el.get("node") for el in alice.iq(gw.domain, f"<query xmlns='{NS_DISCO_ITEMS}' node='{NS_COMMANDS}'/>")
                  .expect_result("alice's command list").child(NS_DISCO_ITEMS)}
    assert {"registration", "unregister"} <= user_nodes, user_nodes
    assert not user_nodes & {"list-users", "list-sessions", "announce"}, f"admin commands offered to alice: {user_nodes}"

    reply = admin.command(gw.domain, "list-users").expect_result("list-users")
    attrs, form = command_form(reply)
    assert attrs.get("status") == "completed", reply.describe()
    assert form is not None, f"list-users has no form: {reply.describe()}"
    rows = form_items(form)
    users = {row.get("jid", [""])[0]: row.get("legacy", [""])[0] for row in rows}
    assert users.get(ALICE) == ALICE_SUB.number and users.get(BOB) == BOB_SUB.number, f"list-users rows: {rows}"

    denied = alice.command(gw.domain, "list-users")
    assert denied.type == "error" and denied.condition == "forbidden", denied.describe()


def test_admin_sees_sessions_and_announces(sms_gateway, connect_client):
    gw = sms_gateway()
    alice = connect_client(gw.prosody)
    admin = connect_client(gw.prosody, ADMIN)
    gw.registered_online(alice, ALICE_SUB)

    reply = admin.command(gw.domain, "list-sessions").expect_result("list-sessions")
    attrs, form = command_form(reply)
    assert attrs.get("status") == "completed" and form is not None, reply.describe()
    online = {row.get("jid", [""])[0] for row in form_items(form)}
    assert ALICE in online, f"alice is logged in but not listed: {reply.describe()}"

    first = admin.command(gw.domain, "announce").expect_result("announce, first step")
    attrs, form = command_form(first)
    assert attrs.get("status") == "executing" and form is not None, first.describe()
    mark = alice.mark()
    done = admin.command(gw.domain, "announce", action="complete", session=attrs.get("sessionid"),
                         form={"body": "maintenance at noon"})
    assert command_form(done.expect_result("announce, submitted"))[0].get("status") == "completed", done.describe()
    alice.wait_for(is_message(gw.domain, body="maintenance at noon"), "the announcement", since=mark)

    denied = alice.command(gw.domain, "announce")
    assert denied.type == "error" and denied.condition == "forbidden", denied.describe()


def test_user_unregisters_with_the_ad_hoc_command(sms_gateway, connect_client):
    gw = sms_gateway()
    alice = connect_client(gw.prosody)
    gw.register(alice, ALICE_SUB).expect_result("alice registers")

    first = alice.command(gw.domain, "unregister").expect_result("unregister, first step")
    attrs, form = command_form(first)
    assert attrs.get("status") == "executing" and form is not None, first.describe()
    done = alice.command(gw.domain, "unregister", action="complete", session=attrs.get("sessionid"), form={"confirm": "true"})
    done.expect_result("unregister, confirmed")
    assert command_form(done)[0].get("status") == "completed", done.describe()
    assert gw.registration_query(alice).find(f"{{{NS_REGISTER}}}registered") is None


def test_registration_command_registers(sms_gateway, connect_client):
    gw = sms_gateway()
    alice = connect_client(gw.prosody)

    first = alice.command(gw.domain, "registration").expect_result("registration, first step")
    attrs, form = command_form(first)
    assert attrs.get("status") == "executing" and form is not None, first.describe()
    assert {"phone", "account", "token"} <= set(form_fields(form)), first.describe()
    done = alice.command(gw.domain, "registration", action="complete", session=attrs.get("sessionid"),
                         form={"phone": ALICE_SUB.number, "account": ALICE_SUB.account, "token": ALICE_SUB.token})
    done.expect_result("registration, submitted")
    assert command_form(done)[0].get("status") == "completed", done.describe()
    query = gw.registration_query(alice)
    assert text_of(query.find(f"{{{NS_REGISTER}}}phone")) == ALICE_SUB.number, describe(query)

    # Run again: the form shows the current values, never the token.
    again = alice.command(gw.domain, "registration").expect_result("registration, second run")
    attrs, form = command_form(again)
    assert form is not None, again.describe()
    fields = form_fields(form)
    assert field_values(fields["phone"]) == [ALICE_SUB.number], again.describe()
    assert ALICE_SUB.token not in again.describe(), f"the command form shows the token: {again.describe()}"
    alice.command(gw.domain, "registration", action="cancel", session=attrs.get("sessionid"))
