"""The core queries every bridge answers, over real XEP-0114 links through Prosody."""

from __future__ import annotations

from harness.causeway import Bridge, Causeway
from harness.xmpp_client import NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_VERSION, XmppClient

GW1 = Bridge("gw1", "gw1.localhost", "s3cret-one", display_name="Gateway one")
GW2 = Bridge("gw2", "gw2.localhost", "s3cret-two")

LINK_TIMEOUT = 15.0
# After Prosody comes back, causeway's reconnect backoff (defaults) must bring links up.
RECONNECT_TIMEOUT = 30.0

CORE_FEATURES = {NS_DISCO_INFO, NS_DISCO_ITEMS, NS_VERSION, NS_PING}


def components_for(*bridges: Bridge) -> list[tuple[str, str]]:
    return [(bridge.domain, bridge.secret) for bridge in bridges]


def wait_for_links(causeway: Causeway, bridges: list[Bridge], timeout: float, since: int = 0) -> None:
    for bridge in bridges:
        causeway.wait_for_log("component link established", bridge.domain, timeout=timeout, since=since)


def assert_core_queries(client: XmppClient, bridge: Bridge) -> None:
    domain = bridge.domain

    info = client.disco_info(domain)
    gateways = [identity for identity in info.identities if identity.category == "gateway"]
    assert gateways, f"{domain}: no identity of category gateway in {info.identities}"
    assert gateways[0].type == "xmpp", f"{domain}: kind core should be gateway type xmpp: {gateways[0]}"
    if bridge.display_name is not None:
        assert gateways[0].name == bridge.display_name, f"{domain}: identity name: {gateways[0]}"
    missing = CORE_FEATURES - info.features
    assert not missing, f"{domain}: disco#info lacks features {sorted(missing)}; has {sorted(info.features)}"

    # A core bridge may list no items; the query must still be answered with a result.
    client.disco_items(domain)

    version = client.version(domain)
    assert version.get("name") == "Causeway", f"{domain}: version answer {version}"

    pong = client.ping(domain)
    assert pong.type == "result", f"{domain}: ping answered {pong.describe()}"
    assert pong.sender == domain, f"{domain}: ping answered by {pong.sender!r}"

    unknown = client.iq(domain, "<query xmlns='urn:example:nothing'/>")
    assert unknown.type == "error", f"{domain}: unknown IQ answered {unknown.describe()}"
    # From the bridge itself: Prosody answers for a disconnected component with a
    # different condition (remote-server-timeout), so this also proves the link is up.
    assert unknown.condition == "service-unavailable", f"{domain}: unknown IQ answered {unknown.describe()}"
    assert unknown.sender == domain, f"{domain}: unknown IQ answered by {unknown.sender!r}"


def test_core_queries_on_two_bridges_survive_a_prosody_restart(start_prosody, start_causeway, connect_client):
    bridges = [GW1, GW2]
    prosody = start_prosody(components=components_for(*bridges))
    causeway = start_causeway(prosody, bridges)
    wait_for_links(causeway, bridges, LINK_TIMEOUT)

    client = connect_client(prosody)
    for bridge in bridges:
        assert_core_queries(client, bridge)
    client.close()  # the restart would cut it anyway

    # Same ports, same data; causeway keeps running and must reconnect on its own.
    mark = causeway.log_mark()
    prosody.restart()
    wait_for_links(causeway, bridges, RECONNECT_TIMEOUT, since=mark)

    client = connect_client(prosody)
    for bridge in bridges:
        assert_core_queries(client, bridge)


def test_wrong_secret_is_reported_and_other_bridge_still_works(start_prosody, start_causeway, connect_client):
    prosody = start_prosody(components=components_for(GW1, GW2))
    wrong = Bridge(GW2.name, GW2.domain, "not-" + GW2.secret)
    causeway = start_causeway(prosody, [GW1, wrong])

    causeway.wait_for_log("not-authorized", "secret", timeout=LINK_TIMEOUT)
    wait_for_links(causeway, [GW1], LINK_TIMEOUT)

    client = connect_client(prosody)
    assert_core_queries(client, GW1)
