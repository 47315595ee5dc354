"""What one work costs on air: frames, and airtime per EU_868 Meshtastic preset.

A work travels as its manifest, cut into pieces of :data:`MANIFEST_PIECE` bytes (231 minus an
8-byte manifest frame header: kind, short id, piece index, total length), then one data frame
per 224-byte chunk (7-byte header). Every frame's airtime comes from
:meth:`node.lora.Preset.frame_airtime`, and the EU868 10 % duty cycle on the
869.4-869.65 MHz sub-band allows 360 s of transmission per rolling hour.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from node.artwork import chunks
from node.lora import EU868_DUTY_CYCLE, EU868_PRESETS, Preset

MANIFEST_FRAME_HEADER = 8
MANIFEST_PIECE = chunks.MAX_FRAME_PAYLOAD - MANIFEST_FRAME_HEADER  # 223
HOUR = 3600.0


@dataclass(frozen=True)
class PresetCost:
    """Airtime of one whole work (every frame sent once) on one preset."""

    preset: str
    airtime_s: float
    duty_cycle: float

    @property
    def hourly_budget_s(self) -> float:
        """Seconds of transmission the duty cycle allows per hour (360 s at 10 %)."""
        return HOUR * self.duty_cycle

    @property
    def budget_share(self) -> float:
        """The work's airtime as a share of one hour's budget (may exceed 1)."""
        return self.airtime_s / self.hourly_budget_s

    @property
    def seconds_at_limit(self) -> float:
        """Wall-clock time for one node to send the work while staying at the duty-cycle limit."""
        return self.airtime_s / self.duty_cycle


@dataclass(frozen=True)
class WorkCost:
    """Frames and per-preset airtime of a work."""

    manifest_frames: int
    data_frames: int
    presets: tuple[PresetCost, ...]

    @property
    def frames(self) -> int:
        """All frames: manifest pieces plus data chunks."""
        return self.manifest_frames + self.data_frames


def frame_payloads(manifest_len: int, content_size: int) -> list[int]:
    """Payload length (bytes) of every frame that carries the work once."""
    sizes = []
    for start in range(0, manifest_len, MANIFEST_PIECE):
        sizes.append(MANIFEST_FRAME_HEADER + min(MANIFEST_PIECE, manifest_len - start))
    for index in range(chunks.chunk_count(content_size)):
        sizes.append(chunks.DATA_FRAME_HEADER + chunks.expected_chunk_len(index, content_size))
    return sizes


def work_cost(
    manifest_len: int,
    content_size: int,
    presets: Iterable[Preset] = EU868_PRESETS.values(),
    duty_cycle: float = EU868_DUTY_CYCLE,
) -> WorkCost:
    """The cost of sending a work with a ``manifest_len``-byte manifest and ``content_size`` bytes once."""
    payloads = frame_payloads(manifest_len, content_size)
    manifest_frames = -(-manifest_len // MANIFEST_PIECE)
    costs = tuple(
        PresetCost(p.name, sum(p.frame_airtime(n) for n in payloads), duty_cycle) for p in presets
    )
    return WorkCost(manifest_frames, len(payloads) - manifest_frames, costs)


def format_duration(seconds: float) -> str:
    """``42 s``, ``7 min 05 s`` or ``2 h 03 min``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        minutes, secs = divmod(round(seconds), 60)
        return f"{minutes} min {secs:02d} s"
    hours, rest = divmod(round(seconds), 3600)
    return f"{hours} h {rest // 60:02d} min"


def cost_table(cost: WorkCost) -> list[str]:
    """Human-readable lines: frame counts, then one line per preset."""
    lines = [
        f"on air: {cost.frames} frames ({cost.manifest_frames} manifest + {cost.data_frames} data), "
        f"each at most {chunks.MAX_FRAME_PAYLOAD} bytes",
        f"{'preset':<14} {'airtime':>11} {'of 1 h budget':>14} {'one node at the limit':>22}",
    ]
    for pc in cost.presets:
        lines.append(
            f"{pc.preset:<14} {format_duration(pc.airtime_s):>11} {pc.budget_share:>13.1%} "
            f"{format_duration(pc.seconds_at_limit):>22}"
        )
    duty = cost.presets[0].duty_cycle if cost.presets else EU868_DUTY_CYCLE
    lines.append(f"(EU868 duty cycle {duty:.0%}: {HOUR * duty:.0f} s of airtime per hour per node)")
    return lines
