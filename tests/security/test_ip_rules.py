"""The API keys' IP allow-list means what it says: an IPv4 address or range written in its
IPv6-mapped form (::ffff:10.0.0.0/104, as some proxies and logs show addresses) allows those IPv4
clients, instead of silently matching nobody; rules still never widen to other addresses."""

from __future__ import annotations

from chatsvg.domain.keys.keys import ip_allowed, parse_ip_rules


def test_ipv4_mapped_rules_are_their_ipv4_ranges() -> None:
    rules = parse_ip_rules(["::ffff:10.0.0.0/104", "::ffff:192.0.2.7"])
    assert rules == ("10.0.0.0/8", "192.0.2.7")
    for allowed in ("10.1.2.3", "::ffff:10.1.2.3", "192.0.2.7"):
        assert ip_allowed(rules, allowed), allowed
    for refused in ("11.0.0.1", "192.0.2.8", "::1", "2001:db8::1"):
        assert not ip_allowed(rules, refused), refused


def test_a_mapped_prefix_shorter_than_the_ipv4_part_stays_ipv6() -> None:
    # ::ffff:0:0/95 covers more than the mapped IPv4 space: kept as written (IPv6 only).
    assert parse_ip_rules(["::ffff:0:0/95"]) == ("::fffe:0:0/95",)
