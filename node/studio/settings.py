"""What one studio server is started with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from node.artwork.keystore import MODERATE, KdfStrength

DEFAULT_PRESET = "MEDIUM_FAST"  # the exhibition profile's preset (firmware_config/profiles/exhibition.yaml)
DEFAULT_SCENARIO = "amsterdam"


@dataclass(frozen=True)
class StudioSettings:
    """The studio's folder, the exhibition it estimates for, and how hard keys are sealed."""

    home: Path
    preset: str = DEFAULT_PRESET
    scenario: str = DEFAULT_SCENARIO
    kdf: KdfStrength = MODERATE
    allow_remote: bool = False  # serve requests for host names other than loopback ones
