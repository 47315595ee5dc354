"""How the virtual radios behave on the simulated channel (deterministic virtual time)."""

from __future__ import annotations

from meshtastic.protobuf import config_pb2, mesh_pb2, portnums_pb2

from node.lora import preset
from simulator.virtual_radio.links import Link

from .virtual_time import Mesh, both_ways, packet

PRIVATE_APP = portnums_pb2.PortNum.PRIVATE_APP
TEXT = portnums_pb2.PortNum.TEXT_MESSAGE_APP
ROUTING = portnums_pb2.PortNum.ROUTING_APP
Role = config_pb2.Config.DeviceConfig.Role
Mode = config_pb2.Config.DeviceConfig.RebroadcastMode


def line() -> Mesh:
    """a - b - c: a and c cannot hear each other."""
    return Mesh(["a", "b", "c"], both_ways(("a", "b"), ("b", "c")))


def test_private_app_with_hop_limit_zero_reaches_direct_neighbours_only():
    mesh = line()
    mesh.radios["a"].handle_client_packet(packet(PRIVATE_APP, b"art chunk", hop_limit=0))
    mesh.time.run_for(10)
    got = mesh.clients["b"].packets(PRIVATE_APP)
    assert [p.decoded.payload for p in got] == [b"art chunk"]
    assert got[0].hop_limit == 0 and got[0].hop_start == 0
    assert getattr(got[0], "from") == mesh.radios["a"].node_num
    assert got[0].rx_snr == 5.0 and got[0].rx_rssi == -100
    assert mesh.clients["c"].packets(PRIVATE_APP) == []
    assert mesh.radios["b"].counters.relayed == 0


def test_text_is_relayed_along_the_line_with_hop_limit_decremented():
    mesh = line()
    mesh.radios["a"].handle_client_packet(packet(TEXT, b"hi", hop_limit=3))
    mesh.time.run_for(10)
    [at_c] = mesh.clients["c"].packets(TEXT)
    assert (at_c.hop_start, at_c.hop_limit) == (3, 2)
    assert at_c.relay_node == mesh.radios["b"].node_num & 0xFF
    assert len(mesh.clients["a"].packets(TEXT)) == 0  # the sender's own client gets no copy


def test_client_mute_does_not_relay():
    mesh = line()
    mesh.radios["b"].state.config.device.role = Role.CLIENT_MUTE
    mesh.radios["a"].handle_client_packet(packet(TEXT, b"hi", hop_limit=3))
    mesh.time.run_for(10)
    assert len(mesh.clients["b"].packets(TEXT)) == 1
    assert mesh.clients["c"].packets(TEXT) == []


def test_core_portnums_only_relay_drops_private_app_but_relays_text():
    mesh = line()
    mesh.radios["b"].state.config.device.rebroadcast_mode = Mode.CORE_PORTNUMS_ONLY
    mesh.radios["a"].handle_client_packet(packet(PRIVATE_APP, b"art", hop_limit=3))
    mesh.radios["a"].handle_client_packet(packet(TEXT, b"hi", hop_limit=3))
    mesh.time.run_for(20)
    assert mesh.clients["c"].packets(PRIVATE_APP) == []
    assert len(mesh.clients["c"].packets(TEXT)) == 1


def test_radios_on_different_presets_do_not_hear_each_other():
    mesh = Mesh(["a", "b"], both_ways(("a", "b")))
    mesh.radios["b"].state.lora.modem_preset = config_pb2.Config.LoRaConfig.ModemPreset.LONG_FAST
    mesh.radios["a"].handle_client_packet(packet(TEXT, b"hi", hop_limit=0))
    mesh.time.run_for(10)
    assert mesh.clients["b"].packets(TEXT) == []
    assert mesh.air.counters.receptions == 0


def test_other_channel_key_is_heard_but_not_delivered_and_local_only_does_not_relay_it():
    mesh = line()
    mesh.radios["b"].state.channels[0].settings.psk = bytes(range(32))
    mesh.radios["b"].state.config.device.rebroadcast_mode = Mode.LOCAL_ONLY
    mesh.radios["a"].handle_client_packet(packet(TEXT, b"hi", hop_limit=3))
    mesh.time.run_for(10)
    assert mesh.radios["b"].counters.received == 1
    assert mesh.clients["b"].packets(TEXT) == []
    assert mesh.clients["c"].packets(TEXT) == []


def test_flooded_broadcast_is_delivered_once_per_radio():
    mesh = Mesh(["a", "b", "c"], both_ways(("a", "b"), ("b", "c"), ("a", "c")))
    mesh.radios["a"].handle_client_packet(packet(TEXT, b"hi", hop_limit=3))
    mesh.time.run_for(30)
    assert len(mesh.clients["b"].packets(TEXT)) == 1
    assert len(mesh.clients["c"].packets(TEXT)) == 1


def test_frame_airtime_follows_the_preset():
    mesh = Mesh(["a", "b"], both_ways(("a", "b")))
    mesh.radios["a"].handle_client_packet(packet(PRIVATE_APP, b"x" * 200, hop_limit=0))
    mesh.time.run_for(5)
    [frame] = mesh.air.frames
    data_len = len(frame.packet.decoded.SerializeToString()) + 2  # firmware adds the bitfield
    assert frame.end - frame.start == preset("MEDIUM_FAST").airtime(16 + data_len)


def test_duty_cycle_limit_refuses_with_a_nak_and_queue_status():
    # A 20 s window makes the 10 % limit 2 s of airtime: a few MEDIUM_FAST frames.
    mesh = Mesh(["a", "b"], both_ways(("a", "b")), duty_window_s=20.0)
    radio, client = mesh.radios["a"], mesh.clients["a"]
    ids = list(range(1000, 1010))
    for packet_id in ids:
        radio.handle_client_packet(packet(PRIVATE_APP, b"y" * 220, hop_limit=0, packet_id=packet_id))
        mesh.time.run_for(1.0)
    statuses = [m.queueStatus for m in client.messages if m.HasField("queueStatus")]
    assert [s.mesh_packet_id for s in statuses] == ids  # one QueueStatus per packet
    naks = {p.decoded.request_id: mesh_pb2.Routing.FromString(p.decoded.payload).error_reason
            for p in client.packets(ROUTING)}
    refused = [i for i in ids if naks.get(i) == mesh_pb2.Routing.Error.DUTY_CYCLE_LIMIT]
    assert refused, "the 10 % limit never kicked in"
    sent = len(ids) - len(refused)
    assert refused == ids[sent:]  # once over the limit, every later packet in the window is refused
    airtime = preset("MEDIUM_FAST").airtime(16 + len(packet(PRIVATE_APP, b"y" * 220, 0, packet_id=1000)
                                                      .decoded.SerializeToString()) + 2)
    assert (sent - 1) * airtime <= 2.0 < sent * airtime  # refused exactly when the sent airtime passed 2 s
    assert len(mesh.clients["b"].packets(PRIVATE_APP)) == sent
    assert any(m.HasField("clientNotification") for m in client.messages)
    mesh.time.run_for(30)  # the window rolls on: sending works again
    radio.handle_client_packet(packet(PRIVATE_APP, b"z", hop_limit=0, packet_id=2000))
    mesh.time.run_for(2)
    assert mesh.clients["b"].packets(PRIVATE_APP)[-1].decoded.payload == b"z"


def test_override_duty_cycle_sends_everything():
    mesh = Mesh(["a", "b"], both_ways(("a", "b")), duty_window_s=20.0)
    mesh.radios["a"].state.lora.override_duty_cycle = True
    for packet_id in range(1, 11):
        mesh.radios["a"].handle_client_packet(packet(PRIVATE_APP, b"y" * 220, hop_limit=0, packet_id=packet_id))
        mesh.time.run_for(1.0)
    assert len(mesh.clients["b"].packets(PRIVATE_APP)) == 10


def test_hidden_terminals_collide_unless_one_is_6_db_stronger():
    for rssi_c, b_gets in ((-100.0, set()), (-110.0, {b"from a"})):
        links = {("a", "b"): Link(5.0, -100.0), ("c", "b"): Link(5.0, rssi_c)}
        mesh = Mesh(["a", "b", "c"], links)
        mesh.radios["a"].originate(packet(PRIVATE_APP, b"from a", hop_limit=0))
        mesh.radios["c"].originate(packet(PRIVATE_APP, b"from c", hop_limit=0))
        # Make both start at the same instant (the random contention delay would usually differ).
        mesh.radios["a"]._queue[0].ready_at = mesh.radios["c"]._queue[0].ready_at = 0.0
        mesh.time.run_for(5)
        assert {p.decoded.payload for p in mesh.clients["b"].packets(PRIVATE_APP)} == b_gets
        assert mesh.air.counters.collisions == 2 - len(b_gets)


def test_oversized_payload_is_refused_too_large():
    mesh = Mesh(["a", "b"], both_ways(("a", "b")))
    mesh.radios["a"].handle_client_packet(packet(PRIVATE_APP, b"x" * 233, hop_limit=0, packet_id=77))
    mesh.time.run_for(5)
    [nak] = mesh.clients["a"].packets(ROUTING)
    assert nak.decoded.request_id == 77
    assert mesh_pb2.Routing.FromString(nak.decoded.payload).error_reason == mesh_pb2.Routing.Error.TOO_LARGE
    assert mesh.clients["b"].packets() == []


def test_direct_message_with_want_ack_gets_an_ack_from_the_destination():
    mesh = Mesh(["a", "b"], both_ways(("a", "b")))
    b_num = mesh.radios["b"].node_num
    mesh.radios["a"].handle_client_packet(packet(TEXT, b"dm", hop_limit=3, to=b_num, want_ack=True, packet_id=55))
    mesh.time.run_for(10)
    assert [p.decoded.payload for p in mesh.clients["b"].packets(TEXT)] == [b"dm"]
    [ack] = mesh.clients["a"].packets(ROUTING)
    assert ack.decoded.request_id == 55 and getattr(ack, "from") == b_num
