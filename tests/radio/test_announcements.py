"""Radios announce themselves: NodeInfo at boot and after an owner change, positions on a timer."""

from __future__ import annotations

from meshtastic.protobuf import admin_pb2, mesh_pb2, portnums_pb2

from simulator.virtual_radio import pki
from simulator.virtual_radio.mesh_modules import with_precision

from .conftest import num_of, radios, run_meshtastic, wait_until
from .virtual_time import Mesh, both_ways

NODEINFO = portnums_pb2.PortNum.NODEINFO_APP
POSITION = portnums_pb2.PortNum.POSITION_APP


def pair() -> Mesh:
    mesh = Mesh(["a", "b"], both_ways(("a", "b")))
    mesh.radios["b"].state.config.position.fixed_position = True
    mesh.radios["b"].state.fixed_position.CopyFrom(mesh_pb2.Position(latitude_i=523_730_000, longitude_i=48_925_000))
    mesh.radios["b"].state.config.position.position_broadcast_secs = 600
    for radio in mesh.radios.values():
        radio.boot()
    return mesh


def set_owner(num: int, long_name: str) -> mesh_pb2.MeshPacket:
    """The admin packet ``meshtastic --set-owner`` sends to its own radio."""
    packet = mesh_pb2.MeshPacket(to=num, want_ack=True)
    packet.decoded.portnum = portnums_pb2.PortNum.ADMIN_APP
    packet.decoded.payload = admin_pb2.AdminMessage(set_owner=mesh_pb2.User(long_name=long_name)).SerializeToString()
    return packet


def test_nodeinfo_30_s_after_boot_carries_the_public_key():
    mesh = pair()
    b = mesh.radios["b"]
    mesh.time.run_for(29)
    assert b.node_num not in mesh.radios["a"].state.nodes
    mesh.time.run_for(2)
    user = mesh.radios["a"].state.nodes[b.node_num].user
    assert user.long_name == "b"
    assert user.public_key == pki.public_key_for(b.state.config.security.private_key)
    assert len(user.public_key) == 32


def test_position_broadcast_at_boot_and_every_position_broadcast_secs_at_channel_precision():
    mesh = pair()
    mesh.time.run_for(50)
    at_a = mesh.clients["a"].packets(POSITION)
    assert len(at_a) == 1
    sent = mesh_pb2.Position.FromString(at_a[0].decoded.payload)
    expected = with_precision(mesh.radios["b"].state.fixed_position, 13)
    assert (sent.latitude_i, sent.longitude_i, sent.precision_bits) == (expected.latitude_i, expected.longitude_i, 13)
    assert mesh.radios["a"].state.nodes[mesh.radios["b"].node_num].position.latitude_i == expected.latitude_i
    mesh.time.run_for(590)
    assert len(mesh.clients["a"].packets(POSITION)) == 1
    mesh.time.run_for(20)
    assert len(mesh.clients["a"].packets(POSITION)) == 2


def test_no_position_broadcast_on_a_channel_without_position_precision():
    mesh = pair()
    mesh.radios["b"].state.channels[0].settings.ClearField("module_settings")  # fails closed: precision 0
    mesh.time.run_for(700)
    assert mesh.clients["a"].packets(POSITION) == []


def test_owner_change_is_announced_unless_a_nodeinfo_went_out_within_10_minutes():
    mesh = pair()
    b = mesh.radios["b"]
    mesh.time.run_for(31)  # boot NodeInfo
    b.handle_client_packet(set_owner(b.node_num, "Renamed"))
    mesh.time.run_for(5)
    assert mesh.radios["a"].state.nodes[b.node_num].user.long_name == "b"  # throttled: 31 s after the last
    mesh.time.run_for(600)  # rebooted meanwhile; the boot NodeInfo is throttled too (firmware 2.7.20+)
    assert b.counters.boots == 1
    b.handle_client_packet(set_owner(b.node_num, "Second"))
    mesh.time.run_for(5)
    assert mesh.radios["a"].state.nodes[b.node_num].user.long_name == "Second"


def test_after_setlat_the_other_radio_learns_the_position(pair_scenario):
    with radios(pair_scenario) as net:
        beta = num_of(net, "beta")
        result = run_meshtastic(net.port_of("beta"), "--setlat", "52.3600", "--setlon", "4.8800")
        assert result.returncode == 0, result.stderr

        def learnt() -> mesh_pb2.Position | None:
            info = net.call(lambda n: n.radio("alpha").state.nodes.get(beta))
            return info.position if info is not None and info.HasField("position") else None

        wait_until(lambda: learnt() is not None, what="alpha to learn beta's position")
        position = learnt()
    assert position is not None and position.precision_bits == 13
    assert abs(position.latitude_i * 1e-7 - 52.36) < 0.03 and abs(position.longitude_i * 1e-7 - 4.88) < 0.03


def test_nodeinfo_at_boot_fills_the_other_radios_node_list(pair_scenario):
    with radios(pair_scenario, announce=True) as net:
        beta = num_of(net, "beta")
        wait_until(lambda: net.call(lambda n: beta in n.radio("alpha").state.nodes), what="beta's boot NodeInfo")
        result = run_meshtastic(net.port_of("alpha"), "--nodes")
    assert result.returncode == 0, result.stderr
    assert "beta" in result.stdout
