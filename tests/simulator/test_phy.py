"""Time on air, presets, link budget and the pairwise reception rules."""

import pytest

from simulator.channel import propagation as phy
from simulator.channel.medium import Signal, survives
from simulator.channel.propagation import ChannelModel, time_on_air


@pytest.mark.parametrize(
    ("sf", "bw", "preamble", "expected_ms"),
    [(7, 125_000, 8, 56.576), (11, 250_000, 16, 395.264), (9, 250_000, 8, 92.672)],
)
def test_time_on_air_reference_values(sf, bw, preamble, expected_ms):
    assert time_on_air(20, sf, bw, 5, preamble=preamble) * 1000 == pytest.approx(expected_ms, abs=1e-9)


def test_time_on_air_is_the_shared_formula():
    from node import lora as airtime

    assert phy.time_on_air is airtime.time_on_air


def test_low_data_rate_optimisation_switches_on_at_16ms_symbols():
    # SF11/BW125: 16.384 ms symbols -> LDRO on by itself, same as forcing it
    assert time_on_air(50, 11, 125_000, 5) == time_on_air(50, 11, 125_000, 5, low_data_rate_opt=True)
    assert time_on_air(50, 10, 125_000, 5) == time_on_air(50, 10, 125_000, 5, low_data_rate_opt=False)


def test_eu868_preset_table():
    table = {name: (p.sf, p.bw_hz, p.cr) for name, p in phy.EU868_PRESETS.items()}
    assert table == {
        "LONG_FAST": (11, 250_000, 5),
        "LONG_SLOW": (12, 125_000, 8),
        "LONG_MODERATE": (11, 125_000, 8),
        "MEDIUM_SLOW": (10, 250_000, 5),
        "MEDIUM_FAST": (9, 250_000, 5),
        "SHORT_SLOW": (8, 250_000, 5),
        "SHORT_FAST": (7, 250_000, 5),
    }
    with pytest.raises(ValueError, match="500 kHz"):
        phy.preset("SHORT_TURBO")


def test_meshtastic_frame_adds_the_header_and_the_data_envelope():
    p = phy.preset("LONG_FAST")
    # 4 payload bytes: 16 header + portnum 256 (3) + payload tag/len (2) + 4 + bitfield (2)
    assert p.frame_airtime(4) == time_on_air(27, 11, 250_000, 5, preamble=16)


def test_tx_power_is_capped_at_the_eu868_limit():
    with pytest.raises(ValueError, match="27"):
        ChannelModel(tx_power_dbm=30)


def test_threshold_is_the_stricter_of_sensitivity_and_snr_floor():
    m = ChannelModel()
    p = phy.preset("MEDIUM_FAST")
    # noise floor -174 + 10·log10(250 kHz) + 6 dB = -114.0; SF9 needs -12.5 dB -> -126.5 dBm,
    # stricter than the datasheet's -128 dBm
    assert m.rx_threshold_dbm(p) == pytest.approx(-126.52, abs=0.01)
    assert phy.sensitivity_dbm(9, 250_000) == -128


def test_path_loss_and_height_gain():
    m = ChannelModel()
    assert m.path_loss_db(40) == pytest.approx(127.41)
    assert m.path_loss_db(400) == pytest.approx(127.41 + 20.8)
    assert m.height_gain_db(15) == pytest.approx(10.0)
    assert m.height_gain_db(1.0) == 0.0
    low = m.mean_rx_dbm(1000, 1.5, 1.5)
    assert m.mean_rx_dbm(1000, 15, 15) == pytest.approx(low + 20.0)


CRIT = 11  # ticks to the critical section in these hand-built cases


def test_capture_needs_6_db():
    a = Signal(0, 100, -90.0)
    b = Signal(5, 105, -97.0)  # arrives early (before a's lock), 7 dB weaker
    assert survives(a, b, CRIT)
    assert not survives(b, a, CRIT)
    c = Signal(5, 105, -93.0)  # only 3 dB apart: both lost
    assert not survives(a, c, CRIT)
    assert not survives(c, a, CRIT)


def test_stronger_late_frame_captures_only_before_the_lock():
    first = Signal(0, 100, -100.0)
    early = Signal(5, 105, -90.0)  # 10 dB stronger, arrives before the first's critical section
    assert survives(early, first, CRIT)
    assert not survives(first, early, CRIT)
    late = Signal(20, 120, -90.0)  # 10 dB stronger but the receiver already locked on `first`
    assert not survives(late, first, CRIT)
    assert not survives(first, late, CRIT)  # and it still ruins the first's payload


def test_late_frame_can_capture_an_undecodable_one():
    noise = Signal(0, 100, -130.0, decodable=False)
    late = Signal(50, 150, -110.0)
    assert survives(late, noise, CRIT)


def test_interferer_ending_in_the_early_preamble_is_harmless():
    victim = Signal(10, 110, -100.0)
    clipped = Signal(0, 15, -95.0)  # ends before victim.start + CRIT
    assert survives(victim, clipped, CRIT)
    assert survives(Signal(0, 10, -90.0), Signal(10, 20, -90.0), CRIT)  # back to back, no overlap
