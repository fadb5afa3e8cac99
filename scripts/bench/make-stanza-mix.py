#!/usr/bin/env python3
"""Writes a realistic XEP-0114 component stream for the stream-parser benchmark.

The mix, roughly as a gateway sees traffic: ~60% chat/groupchat messages, ~25% presence,
~15% IQs (disco#info results, pings, roster pushes). Deterministic for a given seed.

Usage: make-stanza-mix.py OUTPUT [--size-mb 20] [--stanzas N] [--seed 1]
Prints: "file=OUTPUT bytes=N stanzas=N" on one line.
"""

import argparse
import random
import sys

HEADER = ("<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
          "xmlns:stream='http://etherx.jabber.org/streams' id='bench' from='irc.example.org'>")
FOOTER = "</stream:stream>"

WORDS = (
    "the quick brown fox jumps over lazy dog gateway channel server bridge message topic "
    "hello world please ping later tonight tomorrow release build test deploy merge branch "
    "commit patch review issue fixed broken works nice thanks again sorry what why how when"
).split()
ACCENTED = "café naïve résumé über straße façade déjà-vu jalapeño Ærøskøbing São-Paulo Kraków".split()
CJK = "你好 世界 日本語 テスト 한국어 메시지 中文 漢字".split()
EMOJI = ["😀", "🎉", "👍", "🚀", "❤️", "🤔", "🔥", "☕"]
ESCAPED = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "a &lt;b&gt; c", "R&amp;D", "x &lt; y &amp;&amp; y &gt; z"]
NICKS = ["alice", "bob", "carol", "dave", "eve", "mallory", "trent", "peggy", "victor", "walter",
         "zoë", "jürgen", "李雷", "ñandú", "oscar", "sybil"]
CHANNELS = ["#swift", "#xmpp", "#linux", "#rust", "#python", "#libxml2", "#offtopic", "#ops"]
SHOWS = ["away", "chat", "dnd", "xa"]
STATUSES = ["Busy", "At lunch", "Travelling ✈", "In a meeting", "Out of office — back Monday",
            "Working from home", "Zzz", "Hacking on Causeway"]
FEATURES = ["http://jabber.org/protocol/disco#info", "http://jabber.org/protocol/disco#items",
            "http://jabber.org/protocol/muc", "jabber:iq:version", "urn:xmpp:ping", "urn:xmpp:time",
            "jabber:iq:last", "vcard-temp", "urn:xmpp:mam:2", "http://jabber.org/protocol/chatstates",
            "urn:xmpp:receipts", "urn:xmpp:sid:0", "http://jabber.org/protocol/commands",
            "jabber:iq:register", "urn:xmpp:message-correct:0"]


class Mix:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.counter = 0

    def ident(self):
        self.counter += 1
        return "bench-%x-%d" % (self.r.getrandbits(32), self.counter)

    def uuid(self):
        r = self.r.getrandbits(128)
        h = "%032x" % r
        return "%s-%s-4%s-a%s-%s" % (h[:8], h[8:12], h[13:16], h[17:20], h[20:])

    def stamp(self):
        return "2024-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
            self.r.randint(1, 12), self.r.randint(1, 28), self.r.randint(0, 23),
            self.r.randint(0, 59), self.r.randint(0, 59), self.r.randint(0, 999))

    def nick(self):
        return self.r.choice(NICKS)

    def user_jid(self):
        return "%s@example.com/%s" % (self.r.choice(["alice", "bob", "carol", "dave", "eve"]),
                                      self.r.choice(["laptop", "phone", "Conversations.a1b2", "gajim"]))

    def channel_jid(self):
        return "%s%%irc.libera.chat@irc.example.org" % self.r.choice(CHANNELS)

    def body(self):
        target = self.r.randint(20, 400)
        parts = []
        length = 0
        while length < target:
            roll = self.r.random()
            if roll < 0.72:
                word = self.r.choice(WORDS)
            elif roll < 0.82:
                word = self.r.choice(ACCENTED)
            elif roll < 0.89:
                word = self.r.choice(CJK)
            elif roll < 0.94:
                word = self.r.choice(EMOJI)
            else:
                word = self.r.choice(ESCAPED)
            parts.append(word)
            length += len(word) + 1
        return " ".join(parts)

    def message(self):
        groupchat = self.r.random() < 0.55
        mid = self.ident()
        if groupchat:
            frm = "%s/%s" % (self.channel_jid(), self.nick())
            to = self.user_jid()
            kind = "groupchat"
        else:
            frm = "%s%%irc.libera.chat@irc.example.org" % self.nick()
            to = self.user_jid()
            kind = "chat"
        out = ["<message from='%s' to='%s' type='%s' id='%s' xml:lang='en'>" % (frm, to, kind, mid),
               "<body>%s</body>" % self.body()]
        if self.r.random() < 0.8:
            out.append("<active xmlns='http://jabber.org/protocol/chatstates'/>")
        if self.r.random() < 0.25:
            out.append("<delay xmlns='urn:xmpp:delay' from='irc.example.org' stamp='%s'/>" % self.stamp())
        if self.r.random() < 0.6:
            out.append("<origin-id xmlns='urn:xmpp:sid:0' id='%s'/>" % self.uuid())
        if groupchat or self.r.random() < 0.3:
            out.append("<stanza-id xmlns='urn:xmpp:sid:0' id='%s' by='%s'/>" % (
                self.uuid(), frm.split("/")[0]))
        if self.r.random() < 0.2:
            out.append("<request xmlns='urn:xmpp:receipts'/>")
        out.append("</message>")
        return "".join(out)

    def presence(self):
        muc = self.r.random() < 0.6
        if muc:
            frm = "%s/%s" % (self.channel_jid(), self.nick())
        else:
            frm = "%s%%irc.libera.chat@irc.example.org/irc" % self.nick()
        to = self.user_jid()
        if self.r.random() < 0.1:
            out = ["<presence from='%s' to='%s' type='unavailable'>" % (frm, to)]
            if self.r.random() < 0.5:
                # Whole words only, so an entity is never cut in half.
                out.append("<status>Quit: %s</status>" % " ".join(self.body().split(" ")[:6]))
        else:
            out = ["<presence from='%s' to='%s' id='%s'>" % (frm, to, self.ident())]
            if self.r.random() < 0.5:
                out.append("<show>%s</show>" % self.r.choice(SHOWS))
            if self.r.random() < 0.4:
                out.append("<status>%s</status>" % self.r.choice(STATUSES))
            if self.r.random() < 0.3:
                out.append("<priority>%d</priority>" % self.r.randint(-1, 50))
        out.append("<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
                   "node='https://causeway.example.org' ver='%s='/>" % (
                       "%027x" % self.r.getrandbits(108)))
        if muc:
            aff, role = self.r.choice([("member", "participant"), ("none", "participant"),
                                       ("admin", "moderator"), ("owner", "moderator"), ("none", "visitor")])
            out.append("<x xmlns='http://jabber.org/protocol/muc#user'>"
                       "<item affiliation='%s' role='%s'/>" % (aff, role))
            if self.r.random() < 0.15:
                out.append("<status code='110'/>")
            out.append("</x>")
        out.append("</presence>")
        return "".join(out)

    def iq(self):
        roll = self.r.random()
        iid = self.ident()
        if roll < 0.4:
            frm = self.r.choice(["irc.example.org", self.channel_jid()])
            out = ["<iq type='result' from='%s' to='%s' id='%s'>" % (frm, self.user_jid(), iid),
                   "<query xmlns='http://jabber.org/protocol/disco#info'>"]
            for category, kind, name in self.r.sample([
                    ("gateway", "irc", "IRC gateway"), ("conference", "irc", "IRC channels"),
                    ("component", "generic", "Causeway"), ("client", "pc", "Causeway — IRC ↔ XMPP"),
                    ("pubsub", "pep", None)], self.r.randint(2, 4)):
                if name:
                    out.append("<identity category='%s' type='%s' name='%s'/>" % (category, kind, name))
                else:
                    out.append("<identity category='%s' type='%s'/>" % (category, kind))
            for feature in self.r.sample(FEATURES, self.r.randint(5, 12)):
                out.append("<feature var='%s'/>" % feature)
            out.append("</query></iq>")
        elif roll < 0.75:
            if self.r.random() < 0.5:
                out = ["<iq type='get' from='%s' to='irc.example.org' id='%s'>"
                       "<ping xmlns='urn:xmpp:ping'/></iq>" % (self.user_jid(), iid)]
            else:
                out = ["<iq type='result' from='irc.example.org' to='%s' id='%s'/>" % (self.user_jid(), iid)]
        else:
            out = ["<iq type='set' from='irc.example.org' to='%s' id='%s'>"
                   "<query xmlns='jabber:iq:roster' ver='ver%d'>" % (self.user_jid(), iid, self.counter)]
            for _ in range(self.r.randint(1, 4)):
                nick = self.nick()
                out.append("<item jid='%s%%irc.libera.chat@irc.example.org' name='%s' subscription='%s'>"
                           "<group>IRC &amp; friends</group></item>" % (
                               nick, nick, self.r.choice(["both", "to", "from", "none"])))
            out.append("</query></iq>")
        return "".join(out)

    def stanza(self):
        roll = self.r.random()
        if roll < 0.60:
            return self.message()
        if roll < 0.85:
            return self.presence()
        return self.iq()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output")
    parser.add_argument("--size-mb", type=float, default=20.0,
                        help="approximate file size when --stanzas is not given (default 20)")
    parser.add_argument("--stanzas", type=int, default=None, help="exact number of stanzas")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    mix = Mix(args.seed)
    target = int(args.size_mb * 1024 * 1024)
    header = HEADER.encode()
    footer = FOOTER.encode()
    total = len(header) + len(footer)
    count = 0
    with open(args.output, "wb") as out:
        out.write(header)
        batch = []
        while (count < args.stanzas) if args.stanzas is not None else (total < target):
            data = mix.stanza().encode("utf-8")
            # An occasional whitespace keepalive between stanzas, as real streams have.
            if mix.r.random() < 0.02:
                data += b"\n"
            batch.append(data)
            total += len(data)
            count += 1
            if len(batch) >= 4096:
                out.write(b"".join(batch))
                batch.clear()
        out.write(b"".join(batch))
        out.write(footer)
    print("file=%s bytes=%d stanzas=%d" % (args.output, total, count))
    return 0


if __name__ == "__main__":
    sys.exit(main())
