"""The firmware timers a virtual radio follows, in seconds; tests shorten them as they do the duty window.

Values are firmware 2.7.26 defaults: ``DEFAULT_REBOOT_SECONDS`` (configuration.h), the module start
delays of ``MeshModule::setStartDelay`` (30 s, then 15 s apart in construction order: NodeInfo,
Position, ..., DeviceTelemetry), the throttles in ``NodeInfoModule::allocReply`` and
``PositionModule::allocReply``, and ``DeviceTelemetryModule``'s one-minute report to the phone.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FirmwareTiming:
    """How long the firmware waits before each of its own actions."""

    reboot_s: float = 7.0  # after a setting that needs a reboot, factory reset, node DB reset
    nodeinfo_start_s: float = 30.0  # first NodeInfo broadcast after boot
    position_start_s: float = 45.0  # first position broadcast check after boot
    telemetry_start_s: float = 75.0  # first device telemetry run after boot
    telemetry_to_phone_s: float = 60.0  # device metrics to the phone (and the radio's own node entry)
    nodeinfo_throttle_s: float = 600.0  # no NodeInfo sooner than this after the last (kept across reboots)
    nodeinfo_reply_suppress_s: float = 12 * 3600.0  # one NodeInfo reply per requester in this window
    position_reply_throttle_s: float = 180.0  # one position reply per this window
    position_check_s: float = 5.0  # PositionModule::runOnce interval


FIRMWARE = FirmwareTiming()
