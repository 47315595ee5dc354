"""The ``want_config_id`` answer: the FromRadio sequence a client expects, in firmware order.

Order from firmware PhoneAPI.cpp ``getFromRadio`` (reference/meshtastic.md §3): my_info, own
node_info, metadata, 8 channels, one config per section, one module config per module, the
other node_infos, then ``config_complete_id`` carrying the client's nonce.
"""

from __future__ import annotations

from meshtastic.protobuf import config_pb2, mesh_pb2, module_config_pb2, telemetry_pb2

from simulator.virtual_radio.state import CONFIG_SECTIONS, FIRMWARE_VERSION, MODULE_SECTIONS, RadioState

NONCE_ONLY_CONFIG = 69420  # firmware SPECIAL_NONCE_ONLY_CONFIG: skip the other nodes
NONCE_ONLY_NODES = 69421  # firmware SPECIAL_NONCE_ONLY_NODES: skip channels and config
DEVICE_STATE_VERSION = 24


def device_metadata(state: RadioState) -> mesh_pb2.DeviceMetadata:
    """What ``get_device_metadata`` and the handshake report about the (virtual) hardware."""
    return mesh_pb2.DeviceMetadata(
        firmware_version=FIRMWARE_VERSION,
        device_state_version=DEVICE_STATE_VERSION,
        canShutdown=True,
        role=state.config.device.role,
        hw_model=mesh_pb2.HardwareModel.PORTDUINO,
        hasPKC=True,  # the radio has a Curve25519 key pair (see pki.py)
    )


def handshake_messages(state: RadioState, nonce: int,
                       metrics: telemetry_pb2.DeviceMetrics | None = None) -> list[mesh_pb2.FromRadio]:
    """Every FromRadio the radio sends in reply to ``ToRadio.want_config_id = nonce``.

    ``metrics`` are the radio's own device metrics (channel utilisation, airtime), shown in its own
    node entry as the firmware's DeviceTelemetry module keeps them there.
    """
    messages = [mesh_pb2.FromRadio(my_info=mesh_pb2.MyNodeInfo(my_node_num=state.node_num, nodedb_count=
                                                                 len(state.nodes) + 1))]
    messages.append(mesh_pb2.FromRadio(node_info=state.own_node_info(metrics)))
    if nonce != NONCE_ONLY_NODES:
        messages.append(mesh_pb2.FromRadio(metadata=device_metadata(state)))
        messages.extend(mesh_pb2.FromRadio(channel=channel) for channel in state.channels)
        for section in CONFIG_SECTIONS:
            config = config_pb2.Config()
            getattr(config, section).CopyFrom(getattr(state.config, section))
            messages.append(mesh_pb2.FromRadio(config=config))
        for module in MODULE_SECTIONS:
            module_config = module_config_pb2.ModuleConfig()
            getattr(module_config, module).CopyFrom(getattr(state.module_config, module))
            messages.append(mesh_pb2.FromRadio(moduleConfig=module_config))
    if nonce != NONCE_ONLY_CONFIG:
        messages.extend(mesh_pb2.FromRadio(node_info=info) for info in state.nodes.values())
    messages.append(mesh_pb2.FromRadio(config_complete_id=nonce))
    return messages
