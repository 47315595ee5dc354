"""The node status: the operator's full document, the public view, and /metrics.

All three come from one snapshot: the engine's :class:`~node.protocol.config.EngineStatus`
(frames, drops, airtime, peers), the store (works held and partial, writable or full) and every
transport's :class:`~node.transport.base.TransportState` (connection, reconnects, drops, and for
the radio its preset, region, device metrics and safety findings).

* :func:`build_status` is the operator's document (``node status``, ``/api/status/local``, only
  answered on the loopback interface): it names the process, host, data directory and devices.
* :func:`public_status` is what every visitor may read at ``/api/status``: an allow-list of
  counters and states, with no paths, host names, process ids or error texts.
* :func:`metrics_text` renders the Prometheus exposition with ``prometheus-client``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from node.gallery.context import HeardPeer
from node.protocol.config import EngineStatus
from node.store.base import WorkStore
from node.transport.base import Transport

STATUS_PEERS = 20
"""``/api/status`` lists only the peers heard most recently (``peers_heard`` counts them all; the
gallery's ``/network`` pages through the rest), so throw-away beacon identities cannot grow it."""


def store_counts(store: WorkStore) -> dict[str, int]:
    """Works complete and partial, and bytes used."""
    summaries = store.summaries()
    complete = sum(1 for s in summaries if s.complete)
    return {"complete": complete, "partial": len(summaries) - complete,
            "chunks_held": sum(s.chunks_have for s in summaries), "bytes_used": store.used_bytes()}


# The JSON document of /api/status and /api/status/local: built here, served as JSON by the
# daemon's HTTP app, read back by `mesh-art node status`. Its keys are documented in docs/operators.md.
StatusDocument = dict[str, Any]


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
) -> StatusDocument:
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
                  "error": getattr(store, "write_error", None),
                  "path": str(getattr(store, "path", "")) or None},
        "links": links,
        "drops": dict(engine.get("drops") or {}),
        "transport_drops": {name: dict(t.state.drops) for name, t in transports.items() if t.state.drops},
        "engine": {"running": engine_status is not None, "peers": engine.get("peers", 0)},
    }


PUBLIC_NODE_KEYS = ("name", "venue", "node_id", "fingerprint", "version", "trusted_curators")
PUBLIC_TRANSPORT_KEYS = ("connected", "reconnects", "frames_in", "frames_out", "last_frame_in_at")
PUBLIC_RADIO_KEYS = ("region", "preset", "use_preset", "hop_limit", "channel_utilization", "air_util_tx",
                     "drops_art_traffic")
PUBLIC_LINK_KEYS = ("kind", "frames_in", "frames_out", "bytes_out", "refused", "airtime_last_hour_s",
                    "airtime_limit_s", "queued", "channel_utilization", "air_util_tx")
PUBLIC_PEER_KEYS = ("node_key", "venue", "lat", "lon", "version", "uptime_s", "airtime_permille", "works_held",
                    "link", "snr", "rssi", "heard_at")


def _pick(source: Mapping[str, Any] | None, keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: source[key] for key in keys if source is not None and key in source}


def public_status(status: Mapping[str, Any]) -> StatusDocument:
    """The part of a :func:`build_status` document every visitor may read (an allow-list)."""
    links = {}
    for name, link in (status.get("links") or {}).items():
        public = _pick(link, PUBLIC_LINK_KEYS)
        transport = link.get("transport")
        if isinstance(transport, Mapping):
            public["transport"] = _pick(transport, PUBLIC_TRANSPORT_KEYS)
            if isinstance(transport.get("radio"), Mapping):
                public["transport"]["radio"] = _pick(transport["radio"], PUBLIC_RADIO_KEYS)
        links[name] = public
    return {
        "node": _pick(status.get("node"), PUBLIC_NODE_KEYS),
        "uptime_s": status.get("uptime_s"),
        "peers_heard": status.get("peers_heard"),
        "peers": [_pick(peer, PUBLIC_PEER_KEYS) for peer in status.get("peers") or []],
        "works": dict(status.get("works") or {}),
        "takedowns": status.get("takedowns"),
        "store": _pick(status.get("store"), ("writable", "error")),
        "links": links,
        "drops": dict(status.get("drops") or {}),
        "transport_drops": {name: dict(d) for name, d in (status.get("transport_drops") or {}).items()},
        "engine": _pick(status.get("engine"), ("running", "peers", "errors")),
    }


def _ratio(percent: object) -> float | None:
    return float(percent) / 100.0 if isinstance(percent, int | float) and not isinstance(percent, bool) else None


class StatusCollector(Collector):
    """Turns one status document into metric families (a fresh collector per scrape)."""

    def __init__(self, status: Mapping[str, Any]) -> None:
        self.status = status

    def collect(self) -> Iterator[Metric]:
        """The families, in a stable order."""
        status = self.status
        links: Mapping[str, Mapping[str, Any]] = status["links"]
        yield GaugeMetricFamily("meshart_uptime_seconds", "Seconds since the daemon started.",
                                value=float(status["uptime_s"]))
        yield GaugeMetricFamily("meshart_peers_heard", "Distinct nodes whose signed status beacon was heard.",
                                value=float(status["peers_heard"]))
        works = GaugeMetricFamily("meshart_works", "Works in the store by state.", labels=["state"])
        for state in ("complete", "partial"):
            works.add_metric([state], float(status["works"][state]))
        yield works
        yield GaugeMetricFamily("meshart_store_bytes", "Bytes of content counted against the store quota.",
                                value=float(status["works"]["bytes_used"]))
        store = status.get("store") or {}
        yield GaugeMetricFamily("meshart_store_writable", "0 when the store refuses writes (disk full).",
                                value=1.0 if store.get("writable", True) else 0.0)
        frames = CounterMetricFamily("meshart_frames", "Frames received and sent per link.",
                                     labels=["link", "direction"])
        for name, link in links.items():
            for direction in ("in", "out"):
                key = f"frames_{direction}"
                frames.add_metric([name, direction], float(link.get(key, (link.get("transport") or {}).get(key, 0))))
        yield frames
        drops = CounterMetricFamily("meshart_drops", "Frames dropped, by layer and reason.",
                                    labels=["layer", "link", "reason"])
        for reason, count in sorted(status["drops"].items()):
            drops.add_metric(["engine", "", reason], float(count))
        for name, reasons in sorted(status["transport_drops"].items()):
            for reason, count in sorted(reasons.items()):
                drops.add_metric(["transport", name, reason], float(count))
        yield drops
        yield from self._lora(links)
        yield from self._transports(links)

    def _lora(self, links: Mapping[str, Mapping[str, Any]]) -> Iterator[Metric]:
        lora = {name: link for name, link in links.items() if link.get("kind") == "lora"}
        used = GaugeMetricFamily("meshart_airtime_last_hour_seconds", "Transmit airtime used in the last hour.",
                                 labels=["link"])
        limit = GaugeMetricFamily("meshart_airtime_limit_seconds", "Transmit airtime allowed per rolling hour.",
                                  labels=["link"])
        for name, link in lora.items():
            used.add_metric([name], float(link.get("airtime_last_hour_s", 0.0)))
            limit.add_metric([name], float(link.get("airtime_limit_s", 0.0)))
        yield used
        yield limit
        refused = CounterMetricFamily("meshart_send_refused", "Frames the radio refused (duty-cycle NAK).",
                                      labels=["link"])
        for name, link in links.items():
            refused.add_metric([name], float(link.get("refused", 0)))
        yield refused

    def _transports(self, links: Mapping[str, Mapping[str, Any]]) -> Iterator[Metric]:
        transports = {n: link["transport"] for n, link in links.items() if "transport" in link}
        connected = GaugeMetricFamily("meshart_transport_connected", "1 when the transport is connected.",
                                      labels=["link"])
        reconnects = CounterMetricFamily("meshart_transport_reconnects", "Reconnections since start.",
                                         labels=["link"])
        heard = GaugeMetricFamily("meshart_last_frame_received_timestamp_seconds",
                                  "Unix time of the last frame received on the link.", labels=["link"])
        utilisation = GaugeMetricFamily("meshart_radio_channel_utilization_ratio",
                                        "The radio's own reading of how busy the channel is (0-1).", labels=["link"])
        own_tx = GaugeMetricFamily("meshart_radio_air_util_tx_ratio",
                                   "The radio's own transmit airtime share over the last hour (0-1).", labels=["link"])
        deaf = GaugeMetricFamily("meshart_radio_drops_art_traffic",
                                 "1 when the connected radio's configuration drops the art gossip.", labels=["link"])
        problems = GaugeMetricFamily("meshart_radio_config_problems",
                                     "Problems the radio-safety check found on the connected radio.", labels=["link"])
        preset_changes = CounterMetricFamily("meshart_radio_preset_changes",
                                             "Times the radio's modem preset changed under the daemon.",
                                             labels=["link"])
        for name, transport in transports.items():
            connected.add_metric([name], 1.0 if transport["connected"] else 0.0)
            reconnects.add_metric([name], float(transport["reconnects"]))
            if transport.get("last_frame_in_at") is not None:
                heard.add_metric([name], float(transport["last_frame_in_at"]))
            radio = transport.get("radio")
            if not isinstance(radio, Mapping):
                continue
            for family, value in ((utilisation, _ratio(radio.get("channel_utilization"))),
                                  (own_tx, _ratio(radio.get("air_util_tx")))):
                if value is not None:
                    family.add_metric([name], value)
            deaf.add_metric([name], 1.0 if radio.get("drops_art_traffic") else 0.0)
            problems.add_metric([name], float(len(radio.get("problems") or [])))
            preset_changes.add_metric([name], float(transport.get("preset_changes", 0)))
        yield from (connected, reconnects, heard, utilisation, own_tx, deaf, problems, preset_changes)


def metrics_text(status: Mapping[str, Any]) -> str:
    """Prometheus exposition (text format 0.0.4) of a :func:`build_status` document."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StatusCollector(status))
    return generate_latest(registry).decode("utf-8")
