"""Engine configuration and the status snapshot the engine reports.

Timing knobs on a link are given in *slots*: one slot is the airtime of a full 231-byte frame
on a LoRa link, or 231 bytes at the rate cap on an IP link, so one set of defaults suits both
SHORT_FAST and LONG_SLOW radios and MQTT.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from node.lora import EU868_DUTY_CYCLE, Preset, preset
from node.protocol.frames import MAX_FRAME


@dataclass(frozen=True)
class LinkConfig:
    """One link the engine gossips on: a LoRa radio (duty cycle) or an IP broker (rate cap)."""

    name: str
    kind: Literal["lora", "ip"] = "lora"
    preset: str = "LONG_FAST"
    duty_cycle: float = EU868_DUTY_CYCLE
    duty_share: float = 0.9
    rate_bytes_per_s: float = 2000.0
    # LoRa: the radio runs firmware 2.8, which signs broadcasts whose Data fits (+66 bytes on air
    # for frames of 165 bytes or less); the ledger, congestion and slot times count it.
    signed_broadcasts: bool = False
    # Small control frames ready at once (requests, adverts, beacons) go out as one BATCH frame:
    # one preamble and, on firmware 2.8, one signature for all of them. Off by default: in the
    # simulator's single-work cases it sent frames that would otherwise have been suppressed and
    # cost more than it saved (benchmarks/signed_broadcasts.py).
    coalesce_control: bool = False

    def __post_init__(self) -> None:
        if self.kind not in ("lora", "ip"):
            raise ValueError(f"link {self.name!r}: kind must be 'lora' or 'ip'")
        if self.kind == "lora":
            preset(self.preset)  # raises for unknown presets
            if not 0 < self.duty_cycle <= 1 or not 0 < self.duty_share <= 1:
                raise ValueError(f"link {self.name!r}: duty cycle and share must be in (0, 1]")
        elif self.rate_bytes_per_s <= 0:
            raise ValueError(f"link {self.name!r}: the rate cap must be positive")

    @property
    def lora_preset(self) -> Preset:
        """The modem preset of a LoRa link."""
        return preset(self.preset)

    @property
    def hourly_budget_s(self) -> float:
        """Transmit seconds per hour: the duty-cycle share (LoRa) or an hour at the rate cap (IP)."""
        return self.airtime_limit_s if self.kind == "lora" else 3600.0

    @property
    def airtime_limit_s(self) -> float:
        """Seconds of transmission allowed per rolling hour (LoRa), else infinity."""
        if self.kind != "lora":
            return float("inf")
        return self.duty_cycle * self.duty_share * 3600.0

    def frame_cost(self, size: int) -> float:
        """Airtime (LoRa) or seconds at the rate cap (IP) of a ``size``-byte frame."""
        if self.kind == "lora":
            return self.lora_preset.frame_airtime(size, signed_broadcast=self.signed_broadcasts)
        return size / self.rate_bytes_per_s

    def snr_margin_db(self, snr: float | None) -> float | None:
        """How far above the demodulation floor a frame heard at ``snr`` was (None: not known)."""
        if snr is None or self.kind != "lora":
            return None
        return snr - self.lora_preset.snr_floor_db

    @property
    def slot_s(self) -> float:
        """The time of one full frame on this link; the unit of the engine's jitters."""
        return self.frame_cost(MAX_FRAME)


@dataclass(frozen=True)
class EngineConfig:
    """Everything a :class:`~node.protocol.engine.GossipEngine` is tuned by."""

    links: list[LinkConfig]
    venue: str = ""
    lat: float | None = None
    lon: float | None = None
    software_version: str = "0.1.0"
    beacon_interval_s: float = 900.0
    # Trickle (RFC 6206) for adverts: Imin seconds, Imax as doublings of Imin, redundancy k.
    trickle_imin_s: float = 30.0
    trickle_doublings: int = 7
    trickle_k: int = 1
    # Requests: random back-off before the first, then a retry once the transfer goes quiet.
    request_delay_slots: tuple[float, float] = (1.0, 4.0)
    request_quiet_slots: float = 12.0
    request_retry_max_s: float = 600.0
    # Holders wait a random jitter before answering; overheard data pushes them back.
    serve_jitter_slots: tuple[float, float] = (1.0, 3.0)
    serve_holdoff_slots: float = 6.0
    partial_holdoff_factor: float = 3.0  # partial holders defer this much longer to a streaming neighbour
    # A requester names how well it hears its best recent source (that many slots back); a holder
    # it hears more than ``better_source_db`` worse leaves the answer to that source.
    source_memory_slots: float = 48.0
    better_source_db: float = 6.0
    owed_memory_s: float = 600.0
    # Answer budget per requester identity across all works (manifest pieces too): this share of
    # the link's hourly budget, refilled over ``answer_refill_s``. A radio id not bound to a beacon
    # key for ``identity_age_s`` gets ``answer_unbound_share`` and shares one pool with the others.
    answer_share: float = 0.5
    answer_unbound_share: float = 0.1  # small: the pool is for honest newcomers, not for one radio id
    answer_refill_s: float = 3600.0
    identity_age_s: float = 300.0
    # Answers go round-robin over requesters in quanta of this share of a requester's budget: coarse,
    # so honest pipelines keep their order and only a requester far ahead of the others waits.
    fair_quantum_share: float = 0.25
    takedown_repeats: int = 3
    takedown_spacing_s: float = 60.0
    refused_backoff_s: float = 30.0
    # Congestion (node.protocol.congestion): keep the measured channel load below this fraction.
    congestion_target: float = 0.45
    congestion_tau_s: float = 60.0
    # Bounds against hostile neighbours.
    max_wanted: int = 64
    max_wanted_per_neighbour: int = 16
    unverified_attempts: int = 6
    max_assemblies: int = 8
    max_early_chunk_bytes: int = 64 * 1024
    max_coded_works: int = 4  # works with undecoded coded frames buffered
    max_coded_rows: int = 160  # undecoded equations kept per work (224 bytes each)
    max_peers: int = 256
    max_neighbours: int = 64
    max_control_queue: int = 32
    neighbour_control_burst: int = 12
    neighbour_control_per_min: float = 20.0
    ip_control_factor: float = 20.0  # IP links: this many times the control budget of a radio link
    neighbour_takedown_burst: int = 8  # takedowns have their own bucket (signature checks are cheap)
    neighbour_takedown_per_min: float = 10.0

    def __post_init__(self) -> None:
        names = [link.name for link in self.links]
        if not names:
            raise ValueError("an engine needs at least one link")
        if len(set(names)) != len(names):
            raise ValueError("link names must be unique")

    def link(self, name: str) -> LinkConfig:
        """The config of link ``name``; raises KeyError for unknown links (local misuse)."""
        for link in self.links:
            if link.name == name:
                return link
        raise KeyError(f"unknown link {name!r}")


@dataclass
class LinkStatus:
    """Counters of one link."""

    kind: str
    frames_in: int = 0
    frames_out: int = 0
    bytes_out: int = 0
    refused: int = 0
    airtime_last_hour_s: float = 0.0
    airtime_limit_s: float = 0.0
    queued: int = 0
    channel_load: float = 0.0  # measured busy fraction of the channel around this node (LoRa)
    data_rate: float = 1.0  # the share of its bulk-data rate congestion control allows
    preset: str | None = None  # LoRa: the modem preset frames are costed at (set_link_preset)
    channel_utilization: float | None = None  # the radio's own reading, percent (note_radio_metrics)
    air_util_tx: float | None = None


@dataclass
class EngineStatus:
    """A snapshot of the engine's counters, for the gallery, the CLI and the simulator."""

    node_key: bytes
    uptime_s: float
    links: dict[str, LinkStatus] = field(default_factory=dict)
    drops: dict[str, int] = field(default_factory=dict)
    peers: int = 0
    works_complete: int = 0
    works_partial: int = 0
    works_wanted: int = 0
    takedowns: int = 0
    assemblies: int = 0
