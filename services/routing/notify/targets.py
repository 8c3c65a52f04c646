"""Where a webhook may point: public addresses only, checked after DNS resolution.

A webhook makes this service send requests to a URL a unit head chose; pointed at the
loopback (the services' own admin APIs), the cloud metadata address (169.254.169.254) or
the internal network, it would reach what no unit may (SSRF). So a URL's host is resolved
and every address it resolves to must be public; the operator lists hosts allowed all the
same (`webhook_allowed_hosts`: an OA server on the intranet, a receiver on the loopback in
tests). The check runs at registration and again before each delivery, which connects to
the address it checked: a name that resolves elsewhere by then (DNS rebinding) is refused
or, if public, is reached at the checked address, never at one resolved afterwards.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# A name server that does not answer must not hold a registration (or a delivery slot) long.
RESOLVE_TIMEOUT_S = 5.0


class TargetRefused(Exception):
    """The URL's host is not one this service may send to; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def refusal(address: IPAddress) -> str | None:
    """Why an address is not a public one a webhook may reach, or None if it is."""
    # ::ffff:127.0.0.1 is 127.0.0.1 to the network stack; Python 3.11 does not see through it.
    ip: IPAddress = address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local:  # fec0::/10, deprecated but still routed on some networks
            return f"{address} is a site-local address"
        # 2002::/16 (6to4) carries an IPv4 address that a relay would reach.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            ip = embedded
    for kind, hit in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local (cloud metadata)", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if hit:
            return f"{address} is a {kind} address"
    if not ip.is_global:  # shared address space (100.64.0.0/10), documentation ranges, …
        return f"{address} is not a public address"
    return None


@dataclass(frozen=True)
class Target:
    """A URL and the address checked for it: where the request goes."""

    url: httpx.URL
    address: IPAddress

    def pinned(self) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
        """The URL with the checked address for its host, the Host header and TLS name.

        The connection goes to the address checked, while the receiver still sees its own
        name in `Host` and TLS still checks the certificate against that name (SNI).
        """
        host = self.url.raw_host.decode("ascii")
        default_port = {"http": 80, "https": 443}[self.url.scheme]
        port = self.url.port
        host_header = host if port in (None, default_port) else f"{host}:{port}"
        if ":" in host:  # an IPv6 literal
            host_header = f"[{host}]" if port in (None, default_port) else f"[{host}]:{port}"
        extensions = {"sni_hostname": host} if self.url.scheme == "https" else {}
        return self.url.copy_with(host=str(self.address)), {"Host": host_header}, extensions


class TargetGuard:
    """Resolves a webhook URL's host and refuses non-public addresses (bar listed hosts)."""

    def __init__(
        self, *, allowed_hosts: Iterable[str] = (), resolve_timeout_s: float = RESOLVE_TIMEOUT_S
    ) -> None:
        self._allowed = frozenset(host.strip().lower().strip("[]") for host in allowed_hosts)
        self._resolve_timeout_s = resolve_timeout_s

    async def check(self, url: str) -> Target:
        """The URL and the address to send to; `TargetRefused` when it may not be reached."""
        parsed = httpx.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.raw_host:
            raise TargetRefused("only http(s) URLs with a host")
        host = parsed.raw_host.decode("ascii").lower()
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        addresses = await self._resolve(host, port)
        if host not in self._allowed:
            for address in addresses:
                reason = refusal(address)
                if reason is not None:
                    raise TargetRefused(
                        f"{host} resolves to {reason}; an operator may allow the host "
                        "(webhook_allowed_hosts)"
                    )
        return Target(url=parsed, address=addresses[0])

    async def _resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._resolve_timeout_s):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise TargetRefused(f"{host} does not resolve ({exc})") from None
        except TimeoutError:
            limit = f"{self._resolve_timeout_s:g} s"
            raise TargetRefused(f"{host} did not resolve within {limit}") from None
        # Every address the name has: a client may connect to any of them.
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
        if not addresses:
            raise TargetRefused(f"{host} resolves to no address")
        return addresses
