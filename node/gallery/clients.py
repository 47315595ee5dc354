"""What each visitor's address may hold open: connections, live streams and uploads.

The gallery Wi-Fi is open, so one phone (or one laptop posing as many phones) must not take
the places everybody shares. :class:`ClientTable` counts, per client, the TCP connections
(checked by the daemon's server before aiohttp sees a byte), the ``/events`` streams and the
uploads being read, each with a per-client cap and a total cap. A client is an IPv4 address
or an IPv6 /64: one host on a LAN can take any address in its /64.

The daemon keeps the total connection cap below the process's file-descriptor limit
(``LimitNOFILE`` in ``docs/deploy/mesh-art-node.service``), with room left for the store,
the radio, MQTT and logs.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True)
class ClientLimits:
    """Per-client and total caps, and the deadlines of an upload body."""

    connections_per_client: int = 32  # a browser opens about 6 per host; tabs, retries and SSE on top
    connections_total: int = 1024
    streams_per_client: int = 4
    streams_total: int = 400
    uploads_per_client: int = 2
    uploads_total: int = 32  # each buffers up to the upload limit (512 KiB by default) in memory
    upload_deadline_s: float = 60.0  # the whole body; 512 KiB then needs under 9 KiB/s
    upload_idle_s: float = 10.0  # the longest wait for the next bytes of a body


def client_of(address: str | None) -> str:
    """The client an address belongs to: IPv4 as it is, IPv6 by its /64 ("?" when unknown)."""
    if not address:
        return "?"
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class Slots:
    """Places of one kind: at most ``per_client`` held by any client, ``total`` by all."""

    def __init__(self, per_client: int, total: int) -> None:
        self.per_client = per_client
        self.total = total
        self._held: dict[str, int] = {}
        self._count = 0

    def acquire(self, client: str) -> bool:
        """Take a place for ``client``; False (nothing taken) when a cap is reached."""
        held = self._held.get(client, 0)
        if held >= self.per_client or self._count >= self.total:
            return False
        self._held[client] = held + 1
        self._count += 1
        return True

    def release(self, client: str) -> None:
        """Give back a place :meth:`acquire` took."""
        held = self._held.get(client, 0)
        if held <= 0:
            raise RuntimeError(f"client {client} releases a place it does not hold")
        if held == 1:
            del self._held[client]
        else:
            self._held[client] = held - 1
        self._count -= 1

    def held(self, client: str) -> int:
        """Places ``client`` holds now."""
        return self._held.get(client, 0)

    def __len__(self) -> int:
        return self._count


class ClientTable:
    """The gallery's per-client counts; the one owner of who holds what."""

    def __init__(self, limits: ClientLimits) -> None:
        self.limits = limits
        self.connections = Slots(limits.connections_per_client, limits.connections_total)
        self.streams = Slots(limits.streams_per_client, limits.streams_total)
        self.uploads = Slots(limits.uploads_per_client, limits.uploads_total)

    def cap_connections(self, total: int) -> None:
        """Lower the total connection cap (to fit the file-descriptor limit)."""
        self.connections.total = min(self.connections.total, max(1, total))


CLIENTS = web.AppKey("gallery_clients", ClientTable)
