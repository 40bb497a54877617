"""Which webhook URLs we deliver to: public HTTPS only, so a subscription cannot make the service
call into its own network (SSRF: the instance metadata service, private ranges, loopback).

`check_target` is called when a subscription is created and again before each delivery (what a
name resolves to can change). It resolves the host and refuses it unless every address is public.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from textstatus.errors import InvalidRequestError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2048
# Loopback targets allowed with WEBHOOKS_ALLOW_LOOPBACK (the local stack), over http or https.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# A DNS name: ASCII labels of letters, digits and hyphens (internationalized names as punycode).
_HOST_NAME = re.compile(
    r"(?=.{1,253}\.?$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.?"
)
_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class TargetRefusedError(InvalidRequestError):
    """A webhook URL we will not call. Its message says why, never what the host resolved to."""

    code = "TargetRefused"
    target = "url"


def resolve_host(host: str) -> list[str]:
    """Every address `host` resolves to (socket.getaddrinfo, as the HTTP client will resolve it)."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


def check_target(url: str, allow_loopback: bool, resolve: Callable[[str], list[str]] = resolve_host) -> None:
    """Raise TargetRefusedError (an InvalidRequestError, target `url`) unless `url` is an https URL
    (or http to 127.0.0.1, localhost or [::1] with `allow_loopback`) without userinfo, with a host,
    a port in range if any, and a host whose every address is public."""
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefusedError(f"the URL is longer than {MAX_URL_LENGTH} characters")
    # Whitespace, control characters and backslashes are read differently by different URL parsers.
    if any(ord(char) <= 0x20 or ord(char) == 0x7F or char == "\\" for char in url):
        raise TargetRefusedError("the URL holds whitespace, control characters or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefusedError("the URL cannot be read (its host or port)") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise TargetRefusedError("only https URLs are accepted")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise TargetRefusedError("the URL must not hold credentials (userinfo)")
    host = (parts.hostname or "").lower()
    if not host:
        raise TargetRefusedError("the URL has no host")
    if "%" in parts.netloc or not _as_the_client_reads_it(url, host):
        # A zone id, percent-encoding or brackets our parser and the HTTP client read differently:
        # the host checked must be the host called.
        raise TargetRefusedError("the URL's host cannot be read the same way by every parser")
    if port == 0:
        raise TargetRefusedError("the URL's port is out of range")
    if allow_loopback and host in LOOPBACK_HOSTS:
        return
    if scheme != "https":
        raise TargetRefusedError("only https URLs are accepted")
    for address in _addresses(host, resolve):
        if not is_public(address):
            raise TargetRefusedError("the URL's host is not a public address")


def _as_the_client_reads_it(url: str, host: str) -> bool:
    """Whether the HTTP client (urllib3, under requests) reads the URL and finds the same host."""
    from urllib3.exceptions import LocationParseError
    from urllib3.util import parse_url

    try:
        theirs = parse_url(url).host
    except (LocationParseError, ValueError):
        return False
    return theirs is not None and theirs.strip("[]").lower() == host


def _addresses(host: str, resolve: Callable[[str], list[str]]) -> list[IPAddress]:
    literal = _ip_literal(host)
    if literal is not None:
        return [literal]
    if not _HOST_NAME.fullmatch(host):
        raise TargetRefusedError("the URL's host is not a valid host name")
    try:
        resolved = resolve(host)
    except (OSError, UnicodeError, ValueError):
        raise TargetRefusedError("the URL's host does not resolve") from None
    addresses = [_parse(text) for text in resolved]
    if not addresses or None in addresses:
        raise TargetRefusedError("the URL's host does not resolve")
    return [address for address in addresses if address is not None]


def _ip_literal(host: str) -> IPAddress | None:
    """The address a host names literally, in any form a resolver accepts: dotted quad, IPv6
    (brackets already stripped), and the legacy IPv4 forms inet_aton reads (decimal 2130706433,
    octal 0177.0.0.1, hex 0x7f000001, short 127.1)."""
    address = _parse(host)
    if address is not None:
        return address
    if re.fullmatch(r"[0-9a-fx.]+", host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host.rstrip(".") if host.count(".") == 4 else host))
        except OSError:
            if re.fullmatch(r"[0-9.x]+", host):
                # All digits but no address (999.1.1.1): not a name anyone can resolve either.
                raise TargetRefusedError("the URL's host is not a valid address") from None
    return None


def _parse(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])  # an IPv6 zone (fe80::1%eth0) says nothing
    except ValueError:
        return None


def is_public(address: IPAddress) -> bool:
    """True for an address on the public internet: not loopback, private, link-local (the
    metadata service 169.254.169.254), unique-local, unspecified, multicast, reserved, shared
    (100.64/10), nor an IPv6 form that embeds one of those (IPv4-mapped, 6to4, Teredo, NAT64)."""
    if not address.is_global or address.is_multicast or address.is_reserved or address.is_link_local:
        return False
    if address.is_loopback or address.is_private or address.is_unspecified:
        return False
    if isinstance(address, ipaddress.IPv4Address):
        return address not in _SHARED_ADDRESS_SPACE
    embedded: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        embedded.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        embedded.append(address.sixtofour)
    if address.teredo is not None:
        embedded.extend(address.teredo)
    if address in _NAT64:
        embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return all(is_public(inner) for inner in embedded)
