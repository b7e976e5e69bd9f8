"""Who a request comes from, for per-IP limits."""

from __future__ import annotations

import ipaddress

UNKNOWN = "unknown"
# A client controls a whole IPv6 /64 (often more); one address is no identity.
IPV6_PREFIX = 64


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = value.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:51234"
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def rate_key(value: str) -> str:
    """The per-IP rate-limit key of an address: the address itself, an IPv6 /64 network."""
    address = _parse(value)
    if address is None:
        return value.strip() or UNKNOWN
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
    return str(address)


def client_ip(peer: str | None, forwarded_for: str | None, trusted_hops: int) -> str:
    """The client's address, given the socket's peer and ``X-Forwarded-For``.

    ``trusted_hops`` is the number of reverse proxies in front of the server
    (``TRUSTED_PROXY_HOPS``). Each appends the address it received from to the
    header, so the client is the ``trusted_hops``-th entry from the right;
    anything further left was written by the client itself and is ignored.
    With no trusted proxies the header is ignored altogether.
    """
    if trusted_hops > 0 and forwarded_for:
        chain = [part for part in forwarded_for.split(",") if part.strip()]
        if chain:
            candidate = _parse(chain[-min(trusted_hops, len(chain))])
            if candidate is not None:
                return rate_key(str(candidate))
    return rate_key(peer or "")
