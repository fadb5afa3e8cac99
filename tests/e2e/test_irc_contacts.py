"""IRC contacts beyond chat: presence from ISON, vCards from WHOIS, the server's JID (MOTD, raw
commands, per-server settings), server aliases with port fallback, and messages written while the
connection is down — against Prosody, ngircd and raw IRC clients."""

from __future__ import annotations

import pytest

from harness.irc_gateway import IRC_DOMAIN
from harness.waiting import free_port, wait_until
from harness.xmpp_client import NS_COMMANDS, NS_DATA, field_values, form_fields, is_message, is_presence

SERVER = f"127.0.0.1@{IRC_DOMAIN}"
NS_VCARD = "vcard-temp"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


@pytest.fixture
def irc(irc_world):
    # The alias's first port has nothing listening: it must fall back to the next one.
    return irc_world(lambda ngircd: {"irc.servers.testnet": {"address": "127.0.0.1", "ports": [free_port(), ngircd.port]}})


def contact(nick: str, server: str = "127.0.0.1") -> str:
    return f"{nick}%{server}@{IRC_DOMAIN}"


def body_of(element) -> str:
    return element.findtext("{jabber:client}body") or ""


def from_server(text: str, server: str = SERVER):
    return lambda el: el.tag == "{jabber:client}message" and el.get("from") == server and text in body_of(el)


def test_roster_contacts_show_online_and_offline(irc):
    alice, person, *_ = irc
    bob = person("bob_irc")
    mark = alice.mark()
    alice.presence(to=contact("bob_irc"), type_="subscribe")
    # Adding bob connects alice to the server; ISON finds him there.
    alice.wait_for(is_presence(sender=contact("bob_irc"), type_="available"), "bob online", timeout=20, since=mark)

    mark = alice.mark()
    bob.send("QUIT :bye")
    alice.wait_for(is_presence(sender=contact("bob_irc"), type_="unavailable"), "bob offline after QUIT", timeout=20, since=mark)

    mark = alice.mark()
    person("Bob_IRC")  # the same nick in other case: IRC case mapping makes it bob again
    alice.wait_for(is_presence(sender=contact("bob_irc"), type_="available"), "bob back online", timeout=20, since=mark)


def test_vcard_comes_from_whois_and_unknown_nicks_are_not_found(irc):
    alice, person, *_ = irc
    carol = person("carol_irc")
    carol.send("JOIN #lobby")
    reply = alice.iq(contact("carol_irc"), f"<vCard xmlns='{NS_VCARD}'/>", timeout=30)
    vcard = reply.expect_result("carol's vCard").child(NS_VCARD, "vCard")
    assert vcard.findtext(f"{{{NS_VCARD}}}NICKNAME") == "carol_irc"
    assert vcard.findtext(f"{{{NS_VCARD}}}FN") == "carol_irc", "the real name RawIrcClient registers with"
    about = vcard.findtext(f"{{{NS_VCARD}}}DESC") or ""
    assert "carol_irc!" in about and "#lobby" in about, about

    missing = alice.iq(contact("nobody_here"), f"<vCard xmlns='{NS_VCARD}'/>", timeout=30)
    assert missing.type == "error" and missing.condition == "item-not-found", missing.describe()
    assert "nobody_here" in (missing.error.findtext(f"{{{NS_STANZAS}}}text") or "")


def test_server_jid_shows_the_motd_and_takes_raw_commands(irc):
    alice, person, *_ = irc
    bob = person("bob_irc")
    mark = alice.mark()
    alice.send_message(SERVER, "PRIVMSG bob_irc :typed by hand\nWHOIS bob_irc", receipt=False)
    alice.wait_for(from_server("causeway e2e"), "the MOTD from the server's JID", timeout=20, since=mark)
    bob.wait_for(lambda line: line.startswith(":alice_xmpp!") and line.endswith("PRIVMSG bob_irc :typed by hand"), "the raw PRIVMSG")
    # The WHOIS nobody asked for through a vCard is shown as the server's answer.
    alice.wait_for(from_server("bob_irc"), "the WHOIS answer", timeout=20, since=mark)
    alice.wait_for(is_presence(sender=SERVER, type_="available"), "the server's JID online", timeout=20, since=mark)

    # Every line must be a command; one that is not refuses the whole message, and nothing is sent.
    msg_id = alice.send_message(SERVER, "PRIVMSG bob_irc :first line\n!! not a command", receipt=False)
    error = alice.wait_for(lambda el: el.get("type") == "error" and el.get("id") == msg_id, "the refusal", timeout=20)
    assert error.find(f".//{{{NS_STANZAS}}}not-acceptable") is not None
    bob.send("PING :still-here")
    bob.wait_for(lambda line: "PONG" in line and "still-here" in line, "the server's PONG")
    assert not any(line.endswith("PRIVMSG bob_irc :first line") for line in bob.lines), "part of a refused message was sent"


def test_alias_with_port_fallback_and_user_settings_apply_on_connect(irc):
    alice, person, *_ = irc
    bob = person("bob_irc")
    server = f"testnet@{IRC_DOMAIN}"
    start = alice.command(server, "configure").expect_result("the settings form")
    command = start.child(NS_COMMANDS, "command")
    fields = form_fields(command.find(f"{{{NS_DATA}}}x"))
    assert {"ports", "tls", "nick", "sasl_password", "nickserv_password", "after_connect"} <= set(fields), set(fields)

    bad = alice.command(server, "configure", session=command.get("sessionid"), form={"nick": "two words"})
    assert bad.type == "error" and bad.condition == "not-acceptable", bad.describe()

    done = alice.command(server, "configure", session=command.get("sessionid"), form={
        "nick": "alice_alt",
        "sasl_password": "secret words",
        "after_connect": ["PRIVMSG bob_irc :hello from after_connect", "MODE alice_alt +i"],
    }).expect_result("saving the settings")
    assert done.child(NS_COMMANDS, "command").get("status") == "completed", done.describe()
    shown = alice.command(server, "configure").expect_result("the form again").child(NS_COMMANDS, "command")
    assert field_values(form_fields(shown.find(f"{{{NS_DATA}}}x"))["nick"]) == ["alice_alt"]

    # testnet is 127.0.0.1 by the admin's alias; its first port is closed, the second is ngircd.
    alice.send_message(contact("bob_irc", "testnet"), "through the alias", receipt=False)
    bob.wait_for(lambda line: line.startswith(":alice_alt!") and line.endswith("PRIVMSG bob_irc :hello from after_connect"),
                 "the command after connecting, under the per-server nick")
    bob.wait_for(lambda line: line.startswith(":alice_alt!") and line.endswith("PRIVMSG bob_irc :through the alias"), "the message")
    # ngircd offers no SASL: the relay asked, found none, and the user is told.
    alice.wait_for(from_server("does not offer SASL", server), "the SASL notice", timeout=20)
    bob.send("PRIVMSG alice_alt :answer")
    alice.wait_for(is_message(sender=contact("bob_irc", "testnet"), body="answer"), "bob's answer from the alias's JID", timeout=20)


def test_messages_written_while_the_server_is_down_are_accounted_for(irc):
    alice, person, ngircd, _ = irc
    bob = person("bob_irc")
    alice.send_message(contact("bob_irc"), "before", receipt=False)
    bob.wait_for(lambda line: "PRIVMSG bob_irc :before" in line, "the first message")

    bob.close()
    mark = alice.mark()
    ngircd.stop()
    alice.wait_for(from_server("Disconnected from 127.0.0.1"), "the disconnection notice", since=mark)
    alice.wait_for(is_presence(sender=SERVER), "the server's JID away while reconnecting", since=mark)
    ids = [alice.send_message(contact("bob_irc"), f"meanwhile {n}", receipt=False) for n in range(3)]
    ngircd.start()
    bob = person("bob_irc")
    alice.wait_for(from_server("Reconnected to 127.0.0.1"), "the reconnection notice", timeout=60, since=mark)

    # Each message arrives in order, or — if alice was back before bob — comes back as an error.
    def settled():
        alice.pump(0.05)
        bob.poll(0.05)
        arrived = [n for n in range(3) if any(line.endswith(f"PRIVMSG bob_irc :meanwhile {n}") for line in bob.lines)]
        failed = [n for n, msg_id in enumerate(ids)
                  if alice.find_all(lambda el, msg_id=msg_id: el.get("type") == "error" and el.get("id") == msg_id, since=mark)]
        return sorted(arrived + failed) == [0, 1, 2]
    wait_until(settled, 30, "every message sent meanwhile accounted for")
    arrived = [line.rsplit(":meanwhile ", 1)[1] for line in bob.lines if ":meanwhile " in line]
    assert arrived == sorted(arrived), f"out of order: {arrived}"


def test_a_contacts_nick_change_is_followed(irc):
    alice, person, *_ = irc
    bob = person("bob_irc")
    alice.send_message(contact("bob_irc"), "hi bob", receipt=False)
    bob.wait_for(lambda line: line.endswith("PRIVMSG bob_irc :hi bob"), "alice's message")
    # IRC only tells about nick changes of people one shares a channel with.
    alice.send_message(SERVER, "JOIN #shared", receipt=False)
    bob.send("JOIN #shared")
    # Whoever's JOIN reaches the server second sees the other one: bob sees alice join, or
    # finds her in the channel's NAMES when she was there first.
    bob.wait_for(lambda line: (line.startswith(":alice_xmpp!") and " JOIN " in line and "#shared" in line)
                 or (" 353 bob_irc " in line and " #shared :" in line and "alice_xmpp" in
                     [name.lstrip("~&@%+") for name in line.rsplit(":", 1)[-1].split()]),
                 "alice in #shared")
    mark = alice.mark()
    bob.send("NICK bobby_irc")
    note = alice.wait_for(is_message(sender=contact("bob_irc")), "the nick change in the conversation", timeout=20, since=mark)
    assert f"write to bobby_irc%127.0.0.1" in body_of(note), body_of(note)


def test_staying_connected_keeps_the_nick_on_irc_while_offline(irc, connect_client):
    alice, person, *_ = irc
    bob = person("bob_irc")
    reply = alice.register_form_submit(IRC_DOMAIN, {"nick": "alice_xmpp", "stay_connected": "1"})
    assert reply.type == "result", reply.describe()
    alice.send_message(contact("bob_irc"), "going offline now", receipt=False)
    bob.wait_for(lambda line: line.endswith("PRIVMSG bob_irc :going offline now"), "alice's message")

    alice.presence(type_="unavailable")
    bob.send("PING :after-unavailable")  # a round trip, so the unavailable presence has been handled
    bob.wait_for(lambda line: "after-unavailable" in line, "the PONG")
    bob.send("WHOIS alice_xmpp")
    bob.wait_for(lambda line: " 311 bob_irc alice_xmpp " in line, "alice still on IRC while offline")
    bob.send("PRIVMSG alice_xmpp :while you were away")
    bob.send("WHOIS alice_xmpp")
    bob.wait_for(lambda line: " 318 bob_irc alice_xmpp " in line, "the end of the second WHOIS")
    alice.close()

    # The message waited on alice's server, which hands it over when she comes back.
    back = connect_client(irc.prosody)
    back.go_online()
    back.wait_for(is_message(sender=contact("bob_irc"), body="while you were away"), "the message from while she was away", timeout=20)
