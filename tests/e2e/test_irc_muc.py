"""IRC channels as XEP-0045 rooms, end to end: slixmpp users, Prosody, causeway, ngircd and raw
IRC clients."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

import pytest

from harness.irc_gateway import IRC_DOMAIN
from harness.xmpp_client import XmppClient

NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = "http://jabber.org/protocol/muc#user"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_CLIENT = "jabber:client"


@pytest.fixture
def irc(irc_world):
    return irc_world()


def room(name: str) -> str:
    return f"{name}%127.0.0.1@{IRC_DOMAIN}"


def join(client: XmppClient, name: str, nick: str, password: str | None = None) -> None:
    secret = f"<password>{password}</password>" if password else ""
    client.send_raw(f"<presence to={quoteattr(room(name) + '/' + nick)}><x xmlns='{NS_MUC}'>{secret}</x></presence>")


def statuses(presence) -> set[str]:
    return {el.get("code") for el in presence.iter(f"{{{NS_MUC_USER}}}status")}


def item(presence):
    return presence.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}item")


def from_room(name: str, tag: str = "presence", nick: str | None = None):
    prefix = room(name) + "/"
    def match(el):
        sender = el.get("from", "")
        in_room = sender.startswith(prefix) or (nick is None and sender == room(name))
        return el.tag == f"{{{NS_CLIENT}}}{tag}" and in_room and (nick is None or sender == prefix + nick)
    return match


def self_presence(name: str):
    return lambda el: from_room(name)(el) and "110" in statuses(el)


def body_of(el) -> str:
    return el.findtext(f"{{{NS_CLIENT}}}body") or ""


def joined(alice: XmppClient, name: str, nick: str = "alice_xmpp", since: int = 0):
    """Joins and returns (others' presences, self presence, subject message), in arrival order checks."""
    mark = alice.mark() if since == 0 else since
    join(alice, name, nick)
    me = alice.wait_for(self_presence(name), f"alice's own presence in {name}", timeout=30, since=mark)
    subject = alice.wait_for(lambda el: from_room(name, "message")(el) and el.find(f"{{{NS_CLIENT}}}subject") is not None,
                             f"the subject of {name}", timeout=30, since=mark)
    stanzas = alice.find_all(lambda el: True, since=mark)
    others = [el for el in stanzas if from_room(name)(el) and el is not me and el.get("type") != "unavailable"]
    assert stanzas.index(me) < stanzas.index(subject), "the subject comes after the occupants"
    assert all(stanzas.index(other) < stanzas.index(me) for other in others), "others come before the self presence"
    return others, me, subject


def test_join_shows_occupants_with_roles_and_the_subject_last(irc):
    alice, person, *_ = irc
    bob = person("bob_irc")
    bob.send("JOIN #lobby")
    bob.send("TOPIC #lobby :Welcome to the lobby")
    bob.wait_for(lambda line: " TOPIC #lobby " in line, "the topic set")
    carol = person("carol_irc")
    carol.send("JOIN #lobby")
    carol.wait_for(lambda line: " 366 carol_irc #lobby " in line, "carol in")

    others, me, subject = joined(alice, "#lobby")
    by_nick = {el.get("from").rsplit("/", 1)[1]: item(el) for el in others}
    assert set(by_nick) == {"bob_irc", "carol_irc"}, set(by_nick)
    assert (by_nick["bob_irc"].get("affiliation"), by_nick["bob_irc"].get("role")) == ("admin", "moderator"), "the channel operator"
    assert (by_nick["carol_irc"].get("affiliation"), by_nick["carol_irc"].get("role")) == ("none", "participant")
    assert me.get("from") == room("#lobby") + "/alice_xmpp"
    assert subject.findtext(f"{{{NS_CLIENT}}}subject") == "Welcome to the lobby"
    bob.wait_for(lambda line: line.startswith(":alice_xmpp!") and " JOIN " in line and "#lobby" in line, "alice's JOIN on IRC")


def test_groupchat_both_ways_and_own_messages_reflected_to_every_resource(irc):
    alice, person, _, prosody = irc
    bob = person("bob_irc")
    bob.send("JOIN #talk")
    joined(alice, "#talk")
    laptop = XmppClient("alice@localhost/laptop", prosody.accounts["alice@localhost"], prosody.host, prosody.c2s_port).connect()
    try:
        laptop.go_online()
        joined(laptop, "#talk")
        bob.wait_for(lambda line: line.startswith(":alice_xmpp!") and " JOIN " in line, "alice on IRC")
        assert len([line for line in bob.lines if line.startswith(":alice_xmpp!") and " JOIN " in line]) == 1, "one membership"

        mark_phone, mark_laptop = alice.mark(), laptop.mark()
        alice.send_raw(f"<message type='groupchat' id='gc-1' to={quoteattr(room('#talk'))}><body>hello channel</body></message>")
        bob.wait_for(lambda line: line.startswith(":alice_xmpp!") and line.endswith("PRIVMSG #talk :hello channel"), "alice's message on IRC")
        for client, mark in ((alice, mark_phone), (laptop, mark_laptop)):
            echo = client.wait_for(lambda el: from_room("#talk", "message", "alice_xmpp")(el) and body_of(el) == "hello channel",
                                   "the reflection", timeout=20, since=mark)
            assert echo.get("id") == "gc-1", "the reflection keeps the client's id"
            assert echo.get("type") == "groupchat"

        bob.send("PRIVMSG #talk :hi alice")
        bob.send("PRIVMSG #talk :\x01ACTION waves\x01")
        for client in (alice, laptop):
            client.wait_for(lambda el: from_room("#talk", "message", "bob_irc")(el) and body_of(el) == "hi alice", "bob's message", timeout=20)
            client.wait_for(lambda el: from_room("#talk", "message", "bob_irc")(el) and body_of(el) == "/me waves", "bob's action", timeout=20)

        # Multi-line bodies are several PRIVMSGs; nothing becomes a command.
        alice.send_raw(f"<message type='groupchat' to={quoteattr(room('#talk'))}><body>one&#13;PART #talk\ntwo</body></message>")
        lines = bob.collect(lambda line: line.startswith(":alice_xmpp!") and " PRIVMSG #talk :" in line and "hello" not in line, 3, "three lines")
        assert [line.split(" :", 1)[1] for line in lines] == ["one", "PART #talk", "two"]
    finally:
        laptop.close()


def test_join_errors_are_mapped(irc):
    alice, person, *_ = irc
    bob = person("bob_irc")
    bob.send("JOIN #locked")
    bob.send("MODE #locked +k sesame")
    bob.send("JOIN #invite")
    bob.send("MODE #invite +i")
    bob.send("JOIN #banned")
    bob.send("MODE #banned +b alice_xmpp!*@*")
    bob.wait_for(lambda line: "MODE #banned +b" in line, "the ban")

    def refused(name: str, password: str | None = None):
        mark = alice.mark()
        join(alice, name, "alice_xmpp", password)
        error = alice.wait_for(lambda el: from_room(name)(el) and el.get("type") == "error", f"the error joining {name}", timeout=30, since=mark)
        return error.find(f"{{{NS_CLIENT}}}error")

    assert refused("#locked").find(f"{{{NS_STANZAS}}}not-authorized") is not None
    assert refused("#invite").find(f"{{{NS_STANZAS}}}registration-required") is not None
    assert refused("#banned").find(f"{{{NS_STANZAS}}}forbidden") is not None
    # The right key lets her in.
    mark = alice.mark()
    join(alice, "#locked", "alice_xmpp", "sesame")
    alice.wait_for(self_presence("#locked"), "alice in #locked with the key", timeout=30, since=mark)
    # A key with a comma or space would join more than one channel: refused before IRC.
    error = refused("#other", "a,#evil")
    assert error.find(f"{{{NS_STANZAS}}}not-acceptable") is not None
    assert not any("#evil" in line for line in bob.lines)


def presence_from(name: str, nick: str, type_: str | None = None, code: str | None = None):
    def match(el):
        if not from_room(name, "presence", nick)(el):
            return False
        if type_ is not None and el.get("type") != type_:
            return False
        if type_ is None and el.get("type") not in (None, "available"):
            return False
        return code is None or code in statuses(el)
    return match


def test_nick_changes_parts_quits_kicks_and_modes(irc):
    alice, person, *_ = irc
    bob = person("bob_irc")
    bob.send("JOIN #ops")  # bob is the operator
    carol, dave, erin = person("carol_irc"), person("dave_irc"), person("erin_irc")
    for who in (carol, dave, erin):
        who.send("JOIN #ops")
        who.wait_for(lambda line: " 366 " in line and "#ops" in line, "in #ops")
    joined(alice, "#ops")

    mark = alice.mark()
    carol.send("NICK caroline_irc")
    gone = alice.wait_for(presence_from("#ops", "carol_irc", "unavailable", "303"), "carol's nick change", since=mark)
    assert item(gone).get("nick") == "caroline_irc"
    alice.wait_for(presence_from("#ops", "caroline_irc"), "caroline's presence", since=mark)

    dave.send("PART #ops :off to lunch")
    left = alice.wait_for(presence_from("#ops", "dave_irc", "unavailable"), "dave leaving", since=mark)
    assert left.findtext(f"{{{NS_CLIENT}}}status") == "off to lunch"

    erin.send("QUIT :gone fishing")
    quit_ = alice.wait_for(presence_from("#ops", "erin_irc", "unavailable"), "erin quitting", since=mark)
    assert "gone fishing" in (quit_.findtext(f"{{{NS_CLIENT}}}status") or "")

    bob.send("MODE #ops +o caroline_irc")
    promoted = alice.wait_for(lambda el: presence_from("#ops", "caroline_irc")(el) and item(el).get("role") == "moderator",
                              "caroline made operator", since=mark)
    assert item(promoted).get("affiliation") == "admin"

    bob.send("KICK #ops caroline_irc :behave")
    kicked = alice.wait_for(presence_from("#ops", "caroline_irc", "unavailable", "307"), "caroline kicked", since=mark)
    assert item(kicked).findtext(f"{{{NS_MUC_USER}}}reason") == "behave"
    assert item(kicked).find(f"{{{NS_MUC_USER}}}actor").get("nick") == "bob_irc"

    # alice changes her own nick from the room: IRC NICK, shown with 303 and 110.
    alice.send_raw(f"<presence to={quoteattr(room('#ops') + '/alice_new')}><x xmlns='{NS_MUC}'/></presence>")
    bob.wait_for(lambda line: line.startswith(":alice_xmpp!") and " NICK " in line and "alice_new" in line, "alice's NICK on IRC")
    mine = alice.wait_for(presence_from("#ops", "alice_xmpp", "unavailable", "303"), "alice's own nick change", since=mark)
    assert "110" in statuses(mine) and item(mine).get("nick") == "alice_new"
    # ...and a nick that is taken is refused with conflict.
    alice.send_raw(f"<presence to={quoteattr(room('#ops') + '/bob_irc')}><x xmlns='{NS_MUC}'/></presence>")
    refused = alice.wait_for(lambda el: from_room("#ops", "presence", "bob_irc")(el) and el.get("type") == "error", "the refused nick", since=mark)
    assert refused.find(f".//{{{NS_STANZAS}}}conflict") is not None

    # alice kicked: she leaves the room with 307.
    bob.send("KICK #ops alice_new :bye alice")
    out = alice.wait_for(presence_from("#ops", "alice_new", "unavailable", "307"), "alice kicked", since=mark)
    assert "110" in statuses(out) and item(out).findtext(f"{{{NS_MUC_USER}}}reason") == "bye alice"


def test_topic_private_messages_invitations_and_leaving(irc):
    alice, person, *_ = irc
    bob = person("bob_irc")
    bob.send("JOIN #club")
    joined(alice, "#club")

    mark = alice.mark()
    alice.send_raw(f"<message type='groupchat' to={quoteattr(room('#club'))}><subject>New topic from XMPP</subject></message>")
    bob.wait_for(lambda line: line.startswith(":alice_xmpp!") and line.endswith("TOPIC #club :New topic from XMPP"), "alice's TOPIC")
    bob.send("TOPIC #club :Back from IRC")
    subject = alice.wait_for(lambda el: from_room("#club", "message", "bob_irc")(el) and el.findtext(f"{{{NS_CLIENT}}}subject") == "Back from IRC",
                             "bob's topic", since=mark)
    assert subject.get("type") == "groupchat"

    # A private message to an occupant is a PRIVMSG to that nick.
    alice.send_raw(f"<message type='chat' to={quoteattr(room('#club') + '/bob_irc')}><body>psst</body></message>")
    bob.wait_for(lambda line: line.startswith(":alice_xmpp!") and line.endswith("PRIVMSG bob_irc :psst"), "the private message")

    # Invitations both ways.
    alice.send_raw(f"<message to={quoteattr(room('#club'))}><x xmlns='{NS_MUC_USER}'><invite to='carol_irc%127.0.0.1@{IRC_DOMAIN}'/></x></message>")
    carol = person("carol_irc")
    alice.send_raw(f"<message to={quoteattr(room('#club'))}><x xmlns='{NS_MUC_USER}'><invite to='carol_irc%127.0.0.1@{IRC_DOMAIN}'/></x></message>")
    carol.wait_for(lambda line: line.startswith(":alice_xmpp!") and " INVITE carol_irc " in line and "#club" in line, "the IRC INVITE")
    carol.send("JOIN #secret")
    carol.send("INVITE alice_xmpp #secret")
    invitation = alice.wait_for(lambda el: el.get("from") == room("#secret") and el.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}invite") is not None,
                                "carol's invitation", since=mark)
    assert invitation.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}invite").get("from") == f"carol_irc%127.0.0.1@{IRC_DOMAIN}"

    # Leaving the room parts the channel.
    alice.send_raw(f"<presence type='unavailable' to={quoteattr(room('#club') + '/alice_xmpp')}/>")
    out = alice.wait_for(lambda el: self_presence("#club")(el) and el.get("type") == "unavailable", "alice's leave", since=mark)
    bob.wait_for(lambda line: line.startswith(":alice_xmpp!") and " PART #club" in line, "the PART")


NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
NS_RSM = "http://jabber.org/protocol/rsm"


def test_disco_info_on_rooms_and_the_channel_list_paged(irc):
    alice, person, *_ = irc
    bob = person("bob_irc")
    for n in range(5):
        bob.send(f"JOIN #list{n}")
    bob.send("MODE #list0 +m")
    bob.wait_for(lambda line: "MODE #list0 +m" in line, "the mode")

    # A channel alice is not in still answers.
    info = alice.iq(room("#list3"), f"<query xmlns='{NS_DISCO_INFO}'/>", timeout=30).expect_result("disco#info on #list3")
    query = info.child(NS_DISCO_INFO)
    features = {el.get("var") for el in query.iter(f"{{{NS_DISCO_INFO}}}feature")}
    assert {"http://jabber.org/protocol/muc", "muc_open", "muc_temporary", "muc_semianonymous", "urn:xmpp:mam:2", "urn:xmpp:sid:0"} <= features, features
    assert query.find(f"{{{NS_DISCO_INFO}}}identity").get("category") == "conference"

    joined(alice, "#list0")
    info = alice.iq(room("#list0"), f"<query xmlns='{NS_DISCO_INFO}'/>", timeout=30).expect_result("disco#info on #list0")
    features = {el.get("var") for el in info.child(NS_DISCO_INFO).iter(f"{{{NS_DISCO_INFO}}}feature")}
    assert "muc_moderated" in features, features

    server = f"127.0.0.1@{IRC_DOMAIN}"
    seen: list[str] = []
    after = ""
    for _ in range(10):
        page = alice.iq(server, f"<query xmlns='{NS_DISCO_ITEMS}'><set xmlns='{NS_RSM}'><max>2</max>{after}</set></query>",
                        timeout=30).expect_result("a page of the channel list")
        items = [el.get("jid") for el in page.child(NS_DISCO_ITEMS).iter(f"{{{NS_DISCO_ITEMS}}}item")]
        rsm = page.child(NS_DISCO_ITEMS).find(f"{{{NS_RSM}}}set")
        assert rsm is not None, page.describe()
        total = int(rsm.findtext(f"{{{NS_RSM}}}count"))  # ngircd adds &SERVER of its own
        assert len(items) <= 2
        if not items:
            break
        seen += items
        after = f"<after>{escape(rsm.findtext(f'{{{NS_RSM}}}last'))}</after>"
    assert len(seen) == len(set(seen)) == total, seen
    assert {room(f"#list{n}") for n in range(5)} <= set(seen), seen


NS_MAM = "urn:xmpp:mam:2"
NS_FORWARD = "urn:xmpp:forward:0"
NS_DELAY = "urn:xmpp:delay"
NS_SID = "urn:xmpp:sid:0"


def mam_page(alice: XmppClient, name: str, rsm: str, query_id: str):
    mark = alice.mark()
    fin = alice.iq(room(name), f"<query xmlns='{NS_MAM}' queryid='{query_id}'><set xmlns='{NS_RSM}'>{rsm}</set></query>",
                   iq_type="set", timeout=30).expect_result("a MAM page")
    results = [el.find(f"{{{NS_MAM}}}result") for el in alice.find_all(lambda el: el.find(f"{{{NS_MAM}}}result") is not None, since=mark)]
    results = [r for r in results if r.get("queryid") == query_id]
    bodies = [r.find(f"{{{NS_FORWARD}}}forwarded/{{{NS_CLIENT}}}message").findtext(f"{{{NS_CLIENT}}}body") for r in results]
    return fin.child(NS_MAM, "fin"), bodies


def test_history_on_join_and_mam_with_paging(irc):
    alice, person, *_ = irc
    bob = person("bob_irc")
    bob.send("JOIN #hist")
    joined(alice, "#hist")
    mark = alice.mark()
    for n in range(30):
        bob.send(f"PRIVMSG #hist :message {n}")
    alice.wait_for(lambda el: from_room("#hist", "message")(el) and body_of(el) == "message 29", "the last message", since=mark)
    alice.send_raw(f"<message type='groupchat' id='mine' to={quoteattr(room('#hist'))}><body>alice was here</body></message>")
    live = alice.wait_for(lambda el: from_room("#hist", "message")(el) and body_of(el) == "alice was here", "the reflection", since=mark)
    stanza_id = live.find(f"{{{NS_SID}}}stanza-id")
    assert stanza_id is not None and stanza_id.get("by") == room("#hist"), "messages carry a stanza-id"

    # Leave and come back: the last 20 (the default) come first, with delay stamps, oldest first.
    alice.send_raw(f"<presence type='unavailable' to={quoteattr(room('#hist') + '/alice_xmpp')}/>")
    alice.wait_for(lambda el: self_presence("#hist")(el) and el.get("type") == "unavailable", "left", since=mark)
    mark = alice.mark()
    join(alice, "#hist", "alice_xmpp")
    subject = alice.wait_for(lambda el: from_room("#hist", "message")(el) and el.find(f"{{{NS_CLIENT}}}subject") is not None,
                             "the subject after the history", timeout=30, since=mark)
    history = [el for el in alice.find_all(lambda el: from_room("#hist", "message")(el) and el.find(f"{{{NS_DELAY}}}delay") is not None, since=mark)]
    assert [body_of(el) for el in history] == [f"message {n}" for n in range(11, 30)] + ["alice was here"]
    stanzas = alice.find_all(lambda el: True, since=mark)
    assert stanzas.index(history[-1]) < stanzas.index(subject), "history comes before the subject"

    # MAM: the whole archive in pages of 10, forwards; then the last page backwards.
    seen: list[str] = []
    after = ""
    for page_number in range(5):
        fin, bodies = mam_page(alice, "#hist", f"<max>10</max>{after}", f"q{page_number}")
        seen += bodies
        if fin.get("complete") == "true":
            break
        after = f"<after>{fin.find(f'{{{NS_RSM}}}set').findtext(f'{{{NS_RSM}}}last')}</after>"
    assert seen == [f"message {n}" for n in range(30)] + ["alice was here"], seen
    fin, bodies = mam_page(alice, "#hist", "<max>3</max><before/>", "last")
    assert bodies == ["message 28", "message 29", "alice was here"]
    assert fin.find(f"{{{NS_RSM}}}set").findtext(f"{{{NS_RSM}}}count") == "31"


def test_without_history_no_archive_is_promised(irc_world):
    alice, person, *_ = irc_world(causeway_tables={"history": {"enabled": False}})
    bob = person("bob_irc")
    bob.send("JOIN #nohist")
    joined(alice, "#nohist")
    mark = alice.mark()
    bob.send("PRIVMSG #nohist :not kept")
    live = alice.wait_for(lambda el: from_room("#nohist", "message")(el) and body_of(el) == "not kept", "bob's message", since=mark)
    assert live.get("id"), "a message id all the same"
    assert live.find(f"{{{NS_SID}}}stanza-id") is None, "no stanza-id without an archive to find it in"
    alice.send_raw(f"<message type='groupchat' id='mine' to={quoteattr(room('#nohist'))}><body>mine</body></message>")
    reflected = alice.wait_for(lambda el: from_room("#nohist", "message")(el) and body_of(el) == "mine", "the reflection", since=mark)
    assert reflected.get("id") == "mine" and reflected.find(f"{{{NS_SID}}}stanza-id") is None

    info = alice.iq(room("#nohist"), f"<query xmlns='{NS_DISCO_INFO}'/>", timeout=30).expect_result("disco#info")
    features = {el.get("var") for el in info.child(NS_DISCO_INFO).iter(f"{{{NS_DISCO_INFO}}}feature")}
    assert "http://jabber.org/protocol/muc" in features and not {NS_MAM, NS_SID} & features, features
    reply = alice.iq(room("#nohist"), f"<query xmlns='{NS_MAM}' queryid='q'/>", iq_type="set", timeout=30)
    assert reply.condition == "feature-not-implemented" and "history" in reply.describe(), reply.describe()


def test_rooms_are_rejoined_after_a_reconnection_without_leave_join_noise(irc):
    alice, person, *_ = irc
    bob = person("bob_irc")
    bob.send("JOIN #back")
    joined(alice, "#back")
    ngircd = irc.ngircd
    mark = alice.mark()
    bob.close()
    ngircd.stop()
    alice.wait_for(lambda el: self_presence("#back")(el) and "Disconnected" in (el.findtext(f"{{{NS_CLIENT}}}status") or ""),
                   "the interruption as a status", timeout=30, since=mark)
    ngircd.start()
    alice.wait_for(lambda el: self_presence("#back")(el) and "Rejoined" in (el.findtext(f"{{{NS_CLIENT}}}status") or ""),
                   "the rejoin as a status", timeout=60, since=mark)
    own = [el for el in alice.find_all(self_presence("#back"), since=mark)]
    assert all(el.get("type") != "unavailable" for el in own), "alice never left the room on the XMPP side"

    carol = person("carol_irc")
    carol.send("JOIN #back")
    alice.wait_for(presence_from("#back", "carol_irc"), "carol joining the rejoined channel", timeout=30, since=mark)
    carol.send("PRIVMSG #back :welcome back")
    alice.wait_for(lambda el: from_room("#back", "message", "carol_irc")(el) and body_of(el) == "welcome back", "carol's message", since=mark)
    gone_bob = alice.find_all(presence_from("#back", "bob_irc", "unavailable"), since=mark)
    assert len(gone_bob) == 1, "bob, gone during the outage, leaves once"


def test_injection_attempts_in_room_fields_send_no_extra_command(irc):
    alice, person, _, _ = irc
    bob = person("bob_irc")
    bob.send("JOIN #safe")
    joined(alice, "#safe")
    mark = alice.mark()

    # A topic with a line break would be a second command: refused, nothing sent.
    alice.send_raw(f"<message type='groupchat' id='t1' to={quoteattr(room('#safe'))}><subject>fine&#13;QUIT :owned</subject></message>")
    error = alice.wait_for(lambda el: el.get("id") == "t1" and el.get("type") == "error", "the refused topic", since=mark)
    assert error.find(f".//{{{NS_STANZAS}}}not-acceptable") is not None
    # A nick with a space or a comma cannot become a NICK.
    for bad in ("evil nick", "a,b"):
        alice.send_raw(f"<presence to={quoteattr(room('#safe') + '/' + bad)}><x xmlns='{NS_MUC}'/></presence>")
        alice.wait_for(lambda el, bad=bad: from_room("#safe", "presence", bad)(el) and el.get("type") == "error", f"the refused nick {bad!r}", since=mark)
    # A channel name with a comma is not a room at all.
    mark = alice.mark()
    alice.send_raw(f"<presence to={quoteattr(room('#a,#b') + '/alice_xmpp')}><x xmlns='{NS_MUC}'/></presence>")
    alice.wait_for(lambda el: el.get("type") == "error" and el.get("from", "").startswith(room("#a,#b")), "the refused channel", since=mark)

    bob.send("PING :sync")
    bob.wait_for(lambda line: "PONG" in line and "sync" in line, "a round trip")
    from_alice = [line for line in bob.lines if line.startswith(":alice_xmpp!")]
    assert all(" JOIN " in line or " PRIVMSG " in line for line in from_alice), from_alice
    assert not any("QUIT" in line or "NICK" in line or "#b" in line for line in from_alice), from_alice


NS_MUC_ADMIN = "http://jabber.org/protocol/muc#admin"


def test_moderation_from_xmpp_kicks_bans_and_changes_roles(irc):
    alice, person, _, _ = irc
    joined(alice, "#mine")  # first in: alice is the channel operator
    bob, carol, dave = person("bob_irc"), person("carol_irc"), person("dave_irc")
    for who in (bob, carol, dave):
        who.send("JOIN #mine")
        who.wait_for(lambda line: " 366 " in line and "#mine" in line, "in #mine")
    mark = alice.mark()
    alice.wait_for(presence_from("#mine", "dave_irc"), "dave in the room", timeout=20)

    def admin(item: str):
        return alice.iq(room("#mine"), f"<query xmlns='{NS_MUC_ADMIN}'>{item}</query>", iq_type="set", timeout=30)

    admin("<item nick='bob_irc' role='none'><reason>too loud</reason></item>").expect_result("the kick")
    bob.wait_for(lambda line: line.startswith(":alice_xmpp!") and "KICK #mine bob_irc :too loud" in line, "bob kicked on IRC")
    kicked = alice.wait_for(presence_from("#mine", "bob_irc", "unavailable", "307"), "bob's kick in the room", since=mark)
    assert item(kicked).findtext(f"{{{NS_MUC_USER}}}reason") == "too loud"

    admin("<item nick='carol_irc' affiliation='outcast'/>").expect_result("the ban")
    carol.wait_for(lambda line: "MODE #mine +b carol_irc!*@*" in line, "the ban mask")
    carol.wait_for(lambda line: "KICK #mine carol_irc" in line, "carol kicked")
    carol.send("JOIN #mine")
    carol.wait_for(lambda line: " 474 carol_irc #mine " in line, "carol banned from rejoining")

    admin("<item nick='dave_irc' role='moderator'/>").expect_result("the promotion")
    alice.wait_for(lambda el: presence_from("#mine", "dave_irc")(el) and item(el).get("role") == "moderator", "dave a moderator", since=mark)

    # A reason with a line break cannot become a second command.
    bad = admin("<item nick='dave_irc' role='none'><reason>bye&#13;QUIT :owned</reason></item>")
    assert bad.type == "error" and bad.condition == "not-acceptable", bad.describe()
