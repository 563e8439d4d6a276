"""Only public HTTPS addresses for ATS calls: an admin-typed base URL must not reach the app's own network.

The address is checked where the connection is opened, on the addresses the name resolved to then, and the
socket is opened to the checked address: a name that resolves to a public address when the form is saved
and to 10.0.0.5 later (DNS rebinding) is refused at the later call too. TLS still verifies the certificate
against the host name (httpcore passes it to `start_tls` separately).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx


class AddressNotAllowed(Exception):
    """A request to a plain-HTTP URL or a non-public address; `AtsHttp` turns it into `AddressRefused`."""


def public_addresses(host: str, port: int) -> list[str]:
    """Return the addresses `host` resolves to, or raise AddressNotAllowed when any of them is not public.

    Every address must be public: a name resolving to both a public and a private address could be
    connected either way.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise httpcore.ConnectError(f"{host} does not resolve") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        if not ipaddress.ip_address(address.split("%")[0]).is_global:
            raise AddressNotAllowed(f"{host} is a private or local network address")
    return addresses


class _PublicBackend(httpcore.SyncBackend):
    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        address = public_addresses(host, port)[0]
        return super().connect_tcp(address, port, timeout, local_address, socket_options)


class PublicHostsTransport(httpx.HTTPTransport):
    """An `httpx.HTTPTransport` that sends only HTTPS requests, and only to public addresses."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # httpcore's pool opens every connection through its network backend: the one place to check.
        self._pool._network_backend = _PublicBackend()  # type: ignore[union-attr]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme != "https":
            raise AddressNotAllowed("the URL must start with https://")
        return super().handle_request(request)
