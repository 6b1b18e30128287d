"""The address of the person at the other end of a request, behind the province's TLS proxy.

Behind a proxy every request comes from the proxy's address, so a limit keyed on REMOTE_ADDR
would be shared by the whole province. ``X-Forwarded-For`` is read only when the request comes
from one of ``MOTCUA_TRUSTED_PROXIES`` (addresses or networks): walking the header from the
right, the first address that is not a trusted proxy is the client. Anyone can write the
header, so without a trusted proxy, or from anywhere else, it is ignored.

Used by the staff log-in limits (django-axes), allauth's citizen limits and the public look-up.
"""

import ipaddress
from functools import cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def trusted_networks() -> tuple[Network, ...]:
    return _networks(tuple(getattr(settings, "MOTCUA_TRUSTED_PROXIES", ()) or ()))


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _trusted(address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def client_address(remote_addr: str | None, forwarded_for: str | None, networks: tuple[Network, ...]) -> str | None:
    """The client's address from REMOTE_ADDR and X-Forwarded-For, trusting only ``networks``."""
    remote = _parse(remote_addr or "")
    if remote is None:
        return None
    if not networks or not forwarded_for or not _trusted(remote, networks):
        return str(remote)
    client = remote
    for hop in reversed(forwarded_for.split(",")):
        address = _parse(hop)
        if address is None:
            break  # a garbled hop: stop at the last address we could trust
        client = address
        if not _trusted(address, networks):
            break
    return str(client)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address for ``request`` (see the module docstring)."""
    return client_address(request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR"), trusted_networks())
