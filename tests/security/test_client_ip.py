"""noc.ratelimit.client_ip: whose budget a request spends."""

from __future__ import annotations

import pytest

from noc.ratelimit.client_ip import client_ip, rate_key


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "hops", "expected"),
    [
        ("203.0.113.7", None, 0, "203.0.113.7"),
        # Without a trusted proxy the header is the client's own claim: ignored.
        ("203.0.113.7", "198.51.100.1", 0, "203.0.113.7"),
        # One proxy: its peer is the proxy, the client is the last entry it appended.
        ("10.0.0.2", "198.51.100.1", 1, "198.51.100.1"),
        ("10.0.0.2", "1.2.3.4, 198.51.100.1", 1, "198.51.100.1"),  # 1.2.3.4 was forged by the client
        ("10.0.0.2", "1.2.3.4, 198.51.100.1, 10.0.0.9", 2, "198.51.100.1"),
        ("10.0.0.2", "198.51.100.1", 3, "198.51.100.1"),  # fewer entries than hops: the leftmost
        ("10.0.0.2", "not-an-ip", 1, "10.0.0.2"),
        ("10.0.0.2", " , ", 1, "10.0.0.2"),
        ("10.0.0.2", "198.51.100.1:51234", 1, "198.51.100.1"),
        ("10.0.0.2", "[2001:db8::1]:443", 1, "2001:db8::/64"),
        (None, None, 0, "unknown"),
        ("", None, 0, "unknown"),
    ],
)
def test_client_ip(peer: str | None, forwarded_for: str | None, hops: int, expected: str) -> None:
    assert client_ip(peer, forwarded_for, hops) == expected


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("198.51.100.1", "198.51.100.1"),
        # One customer holds a whole /64: one budget for all its addresses.
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.1", "198.51.100.1"),
        ("garbage", "garbage"),
    ],
)
def test_rate_key(address: str, expected: str) -> None:
    assert rate_key(address) == expected
