"""The node status served at /api/status (JSON) and /metrics (Prometheus text format).

Both are built from one snapshot: the engine's :class:`~node.protocol.config.EngineStatus`
(frames, drops, airtime, peers), the store (works held and partial) and every transport's
:class:`~node.transport.base.TransportState` (connection, reconnects, transport-level drops).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from typing import Any

from node.gallery.context import HeardPeer
from node.protocol.config import EngineStatus
from node.store.base import WorkStore
from node.transport.base import Transport

Samples = list[tuple[dict[str, object], float]]

STATUS_PEERS = 20
"""``/api/status`` lists only the peers heard most recently (``peers_heard`` counts them all; the
gallery's ``/network`` pages through the rest), so throw-away beacon identities cannot grow it."""


def store_counts(store: WorkStore) -> dict[str, int]:
    """Works complete and partial, and bytes used."""
    summaries = store.summaries()
    complete = sum(1 for s in summaries if s.complete)
    return {"complete": complete, "partial": len(summaries) - complete,
            "chunks_held": sum(s.chunks_have for s in summaries), "bytes_used": store.used_bytes()}


def engine_snapshot(engine_status: EngineStatus | None) -> dict[str, Any]:
    """An ``EngineStatus`` as plain JSON-able data (bytes as hex)."""
    if engine_status is None:
        return {}
    raw = dataclasses.asdict(engine_status)

    def clean(value: Any) -> Any:
        if isinstance(value, bytes):
            return value.hex()
        if isinstance(value, Mapping):
            return {str(k): clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    result: dict[str, Any] = clean(raw)
    return result


def peer_row(peer: HeardPeer) -> dict[str, Any]:
    """One peer as JSON-able data."""
    beacon = peer.status
    return {"node_key": beacon.node_key.hex(), "venue": beacon.venue, "lat": beacon.lat, "lon": beacon.lon,
            "version": beacon.version, "uptime_s": beacon.uptime_s, "airtime_permille": beacon.airtime_permille,
            "works_held": beacon.works_held, "link": beacon.link, "snr": beacon.snr, "rssi": beacon.rssi,
            "heard_at": peer.heard_at, "beacons": peer.beacons}


def build_status(
    *,
    node: Mapping[str, Any],
    engine_status: EngineStatus | None,
    store: WorkStore,
    transports: Mapping[str, Transport],
    peers: Sequence[HeardPeer],
    started_at: float,
    started_monotonic: float | None = None,
) -> dict[str, Any]:
    """The /api/status document.

    ``uptime_s`` comes from the monotonic clock when ``started_monotonic`` is given: a Pi has
    no RTC, so its wall clock leaps (often by decades) when NTP first syncs. ``peers`` is the
    daemon's (bounded) table; the document lists the :data:`STATUS_PEERS` heard most recently.
    """
    engine = engine_snapshot(engine_status)
    links: dict[str, dict[str, Any]] = {}
    for name, link in (engine.get("links") or {}).items():
        links[name] = dict(link)
    for name, transport in transports.items():
        links.setdefault(name, {"kind": transport.kind})["transport"] = transport.state.to_dict()
    works = store_counts(store)
    return {
        "node": dict(node),
        "uptime_s": round(time.monotonic() - started_monotonic if started_monotonic is not None
                          else time.time() - started_at, 1),
        "peers_heard": len(peers),
        "peers": [peer_row(p) for p in sorted(peers, key=lambda p: -p.heard_at)[:STATUS_PEERS]],
        "works": {**works, "wanted": engine.get("works_wanted", 0), "assemblies": engine.get("assemblies", 0)},
        "takedowns": len(store.takedowns()),
        "store": {"writable": getattr(store, "write_error", None) is None,
                  "error": getattr(store, "write_error", None)},
        "links": links,
        "drops": dict(engine.get("drops") or {}),
        "transport_drops": {name: dict(t.state.drops) for name, t in transports.items() if t.state.drops},
        "engine": {"running": engine_status is not None, "peers": engine.get("peers", 0)},
    }


def _label(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class _Exposition:
    """Collects metric families and renders the Prometheus text format (version 0.0.4)."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str, samples: Samples) -> None:
        self._lines.append(f"# HELP {name} {help_text}")
        self._lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            text = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
            self._lines.append(f"{name}{{{text}}} {value:g}" if text else f"{name} {value:g}")

    def render(self) -> str:
        return "\n".join(self._lines) + "\n"


def metrics_text(status: Mapping[str, Any]) -> str:
    """Prometheus exposition of a :func:`build_status` document."""
    out = _Exposition()
    links: Mapping[str, Mapping[str, Any]] = status["links"]
    out.family("meshart_uptime_seconds", "gauge", "Seconds since the daemon started.",
               [({}, float(status["uptime_s"]))])
    out.family("meshart_peers_heard", "gauge", "Distinct nodes whose signed status beacon was heard.",
               [({}, float(status["peers_heard"]))])
    works = status["works"]
    out.family("meshart_works", "gauge", "Works in the store by state.",
               [({"state": "complete"}, float(works["complete"])), ({"state": "partial"}, float(works["partial"]))])
    out.family("meshart_store_bytes", "gauge", "Bytes of content counted against the store quota.",
               [({}, float(works["bytes_used"]))])
    store = status.get("store") or {}
    out.family("meshart_store_writable", "gauge", "0 when the store refuses writes (disk full).",
               [({}, 1.0 if store.get("writable", True) else 0.0)])
    frames: Samples = []
    for name, link in links.items():
        for direction in ("in", "out"):
            key = f"frames_{direction}"
            value = link.get(key, (link.get("transport") or {}).get(key, 0))
            frames.append(({"link": name, "direction": direction}, float(value)))
    out.family("meshart_frames_total", "counter", "Frames received and sent per link.", frames)
    drops: Samples = [
        ({"layer": "engine", "reason": reason}, float(count)) for reason, count in sorted(status["drops"].items())]
    for name, reasons in sorted(status["transport_drops"].items()):
        drops += [({"layer": "transport", "link": name, "reason": r}, float(c)) for r, c in sorted(reasons.items())]
    out.family("meshart_drops_total", "counter", "Frames dropped, by layer and reason.", drops)
    lora = {name: link for name, link in links.items() if link.get("kind") == "lora"}
    out.family("meshart_airtime_last_hour_seconds", "gauge", "Transmit airtime used in the last hour.",
               [({"link": n}, float(link.get("airtime_last_hour_s", 0.0))) for n, link in lora.items()])
    out.family("meshart_airtime_limit_seconds", "gauge", "Transmit airtime allowed per rolling hour.",
               [({"link": n}, float(link.get("airtime_limit_s", 0.0))) for n, link in lora.items()])
    out.family("meshart_send_refused_total", "counter", "Frames the radio refused (duty-cycle NAK).",
               [({"link": n}, float(link.get("refused", 0))) for n, link in links.items()])
    transports = {n: link["transport"] for n, link in links.items() if "transport" in link}
    out.family("meshart_transport_connected", "gauge", "1 when the transport is connected.",
               [({"link": n}, 1.0 if t["connected"] else 0.0) for n, t in transports.items()])
    out.family("meshart_transport_reconnects_total", "counter", "Reconnections since start.",
               [({"link": n}, float(t["reconnects"])) for n, t in transports.items()])
    return out.render()
