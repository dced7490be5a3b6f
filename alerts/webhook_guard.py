"""The SSRF guard of webhook delivery: a receiver's host is resolved here, every address it resolves to must be a
public one (or inside an allow-listed network, for on-site receivers), and the request then goes to the address
that was checked, so a second DNS answer cannot swap in an internal one (DNS rebinding).

Refusals name the rule, never what an internal host would have answered: the guard refuses before connecting.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

# not "global" in the IANA registries, or reachable only inside a provider: refused unless allow-listed
_INTERNAL = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
    "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4",
    "240.0.0.0/4", "::/128", "::1/128", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001:db8::/32",
    "fc00::/7", "fe80::/10", "ff00::/8",
))


class RefusedAddressError(Exception):
    """A webhook URL the guard will not connect to; the message says which rule refused it."""


@dataclass(frozen=True)
class Target:
    """A checked receiver: the URL as registered, its host and port, and the address to connect to."""

    url: str
    scheme: str
    host: str
    port: int
    address: str

    @property
    def pinned_url(self) -> str:
        """The URL with the checked address in place of the host name (the Host header and SNI keep the name)."""
        parts = urlsplit(self.url)
        addr = f"[{self.address}]" if ":" in self.address else self.address
        rest = parts.path or "/"
        if parts.query:
            rest += "?" + parts.query
        return f"{self.scheme}://{addr}:{self.port}{rest}"

    @property
    def host_header(self) -> str:
        """The Host header the receiver expects: the name, and the port unless it is the scheme's default."""
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (TCP)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _plain(address: IpAddress) -> IpAddress:
    """An IPv4 address hidden in IPv6 (mapped ``::ffff:a.b.c.d`` or 6to4) is judged as the IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
    return address


class AddressGuard:
    """Resolves and checks receiver URLs; ``allow`` lists networks that may be internal (on-site receivers)."""

    def __init__(self, allow: Iterable[str] = (), resolver: Resolver = system_resolver) -> None:
        self.allow: tuple[IpNetwork, ...] = tuple(ipaddress.ip_network(n.strip(), strict=False) for n in allow)
        self.resolver = resolver

    @classmethod
    def from_text(cls, text: str) -> AddressGuard:
        """From ``EW_WEBHOOK_ALLOW_NETWORKS``: comma-separated CIDRs (empty = public receivers only)."""
        return cls([part for part in text.split(",") if part.strip()])

    def why_refused(self, address: str) -> str | None:
        """Why ``address`` may not be reached, or None when it may."""
        ip = _plain(ipaddress.ip_address(address.split("%", 1)[0]))
        if any(ip in net for net in self.allow if net.version == ip.version):
            return None
        for net in _INTERNAL:
            if net.version == ip.version and ip in net:
                kind = ("loopback" if ip.is_loopback else "link-local" if ip.is_link_local
                        else "private" if ip.is_private else "internal")
                return f"{kind} address {ip} (in {net}); allow on-site receivers with EW_WEBHOOK_ALLOW_NETWORKS"
        if not ip.is_global:
            return f"non-global address {ip}; allow on-site receivers with EW_WEBHOOK_ALLOW_NETWORKS"
        return None

    def check(self, url: str) -> Target:
        """The checked target of ``url``.

        Raises:
            RefusedAddressError: not http(s), no host, credentials in the URL, unresolvable, or an address that is
                internal and not allow-listed (all addresses are checked: one internal answer refuses the URL).
        """
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise RefusedAddressError(f"malformed URL: {exc}") from exc
        if parts.scheme not in ("http", "https"):
            raise RefusedAddressError("only http and https receivers are allowed")
        if not parts.hostname:
            raise RefusedAddressError("the URL has no host")
        if parts.username is not None or parts.password is not None:
            raise RefusedAddressError("credentials in the URL are not allowed; sign requests with the secret")
        port = port or (443 if parts.scheme == "https" else 80)
        host = parts.hostname
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                addresses = self.resolver(host, port)
            except (OSError, UnicodeError) as exc:
                raise RefusedAddressError(f"host {host!r} does not resolve") from exc
        if not addresses:
            raise RefusedAddressError(f"host {host!r} does not resolve")
        for address in addresses:
            reason = self.why_refused(address)
            if reason is not None:
                raise RefusedAddressError(f"refused: {reason}")
        return Target(url, parts.scheme, host, port, addresses[0].split("%", 1)[0])
