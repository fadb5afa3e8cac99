"""IRC over TLS through the gateway's own relay (Debian's libircclient has no TLS): a verified
connection works; an unverifiable one is refused with a clear message, never sent in plain text."""

from __future__ import annotations

import subprocess

import pytest

from harness.causeway import Bridge
from harness.ngircd import Ngircd, RawIrcClient
from harness.xmpp_client import is_message

IRC_DOMAIN = "irc.localhost"
IRC_SECRET = "irc-component-secret"


def make_pki(directory) -> dict[str, str]:
    """A test CA and a server certificate for localhost / 127.0.0.1, made with the openssl CLI."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "leaf.ext").write_text(
        "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature, keyEncipherment\n"
        "extendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost, IP:127.0.0.1\n")
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True, timeout=30)

    openssl("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Causeway e2e CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-new", *key, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "leaf.ext")
    return {name: str(directory / name) for name in ("ca.pem", "server.pem", "server.key")}


@pytest.fixture
def tls_ircd(tmp_path):
    pki = make_pki(tmp_path / "pki")
    ngircd = Ngircd(tmp_path / "ngircd", tls=(pki["server.pem"], pki["server.key"]))
    ngircd.start()
    yield ngircd, pki
    ngircd.stop()


def start_gateway(start_prosody, start_causeway, connect_client, ngircd, irc_table):
    prosody = start_prosody(components=[(IRC_DOMAIN, IRC_SECRET)])
    bridge = Bridge("irc", IRC_DOMAIN, IRC_SECRET, kind="irc", tables={"irc": irc_table})
    causeway = start_causeway(prosody, [bridge])
    causeway.wait_for_log("component link established", IRC_DOMAIN, timeout=20)
    alice = connect_client(prosody)
    assert alice.register_legacy(IRC_DOMAIN, {"nick": "alice_tls"}).type == "result"
    alice.go_online()
    return alice


def test_verified_tls_connection_carries_private_chat(tls_ircd, start_prosody, start_causeway, connect_client):
    ngircd, pki = tls_ircd
    alice = start_gateway(start_prosody, start_causeway, connect_client, ngircd,
                          {"tls": True, "port": ngircd.tls_port, "trust_roots": pki["ca.pem"], "throttle": "off"})
    bob = RawIrcClient(ngircd.port, "bob_plain")
    alice.send_message(f"bob_plain%127.0.0.1@{IRC_DOMAIN}", "over tls", receipt=False)
    bob.wait_for(lambda line: line.startswith(":alice_tls!") and line.endswith("PRIVMSG bob_plain :over tls"), "alice's PRIVMSG")
    bob.send("PRIVMSG alice_tls :back over tls")
    alice.wait_for(is_message(sender=f"bob_plain%127.0.0.1@{IRC_DOMAIN}", body="back over tls"), "bob's reply")
    bob.close()


def test_unverifiable_certificate_is_refused_with_a_clear_error(tls_ircd, start_prosody, start_causeway, connect_client):
    ngircd, _ = tls_ircd
    # No trust_roots: the system's roots do not know the test CA.
    alice = start_gateway(start_prosody, start_causeway, connect_client, ngircd,
                          {"tls": True, "port": ngircd.tls_port, "throttle": "off"})
    bob = RawIrcClient(ngircd.port, "bob_plain")
    msg_id = alice.send_message(f"bob_plain%127.0.0.1@{IRC_DOMAIN}", "must not go out", receipt=False)
    error = alice.wait_for(lambda el: el.get("type") == "error" and el.get("id") == msg_id, "an error for the message", timeout=30)
    text = error.findtext(".//{urn:ietf:params:xml:ns:xmpp-stanzas}text") or ""
    assert "not trusted" in text or "certificate" in text, text
    notice = alice.wait_for(lambda el: el.get("from") == f"127.0.0.1@{IRC_DOMAIN}" and "TLS verification failed" in (el.findtext("{jabber:client}body") or ""),
                            "a notice from the server's JID")
    assert "certificate" in notice.findtext("{jabber:client}body")
    # Nothing reached IRC: alice never registered a nick there.
    bob.send("WHOIS alice_tls")
    bob.wait_for(lambda line: " 401 bob_plain alice_tls " in line, "no such nick alice_tls")
    bob.close()
