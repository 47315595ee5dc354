"""Answers to AdminMessages a client sends to its own radio, applied to the radio's state.

Every request that asks for something gets a response (so the library never waits forever:
``--export-config`` blocks without a timeout on the canned-message and ringtone answers);
every setter changes :class:`RadioState`, so a later handshake or export shows the new value.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from meshtastic.protobuf import admin_pb2, config_pb2, connection_status_pb2, device_ui_pb2, module_config_pb2

from simulator.virtual_radio.handshake import device_metadata
from simulator.virtual_radio.state import RadioState, default_state

ConfigType = admin_pb2.AdminMessage.ConfigType
# The ConfigType and ModuleConfigType enums number the Config / ModuleConfig oneof fields in order.
CONFIG_FIELDS = [f.name for f in config_pb2.Config.DESCRIPTOR.oneofs_by_name["payload_variant"].fields]
MODULE_FIELDS = [f.name for f in module_config_pb2.ModuleConfig.DESCRIPTOR.oneofs_by_name["payload_variant"].fields]


@dataclass
class AdminOutcome:
    """What handling one AdminMessage produced."""

    response: admin_pb2.AdminMessage | None = None
    changed: bool = False  # the state was modified (persist it; the channel setup may differ)
    reboot_after: float | None = None  # seconds until the radio drops its client, as a reboot does


class AdminHandler:
    """Applies admin requests to one radio's state."""

    def __init__(self, state: RadioState) -> None:
        self.state = state
        self.session_passkey = secrets.token_bytes(8)

    def handle(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        """Apply ``message``; return the response (if the request asks for one) and side effects."""
        variant = message.WhichOneof("payload_variant")
        if variant is None:
            return AdminOutcome()
        getter = getattr(self, f"_get_{variant.removesuffix('_request')}", None)
        if variant.endswith("_request") and getter is not None:
            response = admin_pb2.AdminMessage(session_passkey=self.session_passkey)
            getter(message, response)
            return AdminOutcome(response=response)
        setter = getattr(self, f"_do_{variant}", None)
        if setter is None:
            return AdminOutcome()  # accepted and ignored, like firmware for unsupported features
        outcome: AdminOutcome = setter(message)
        return outcome

    # --- getters: fill ``response`` -------------------------------------------------------
    def _get_get_channel(self, message: admin_pb2.AdminMessage, response: admin_pb2.AdminMessage) -> None:
        index = message.get_channel_request - 1  # the request is index + 1
        if 0 <= index < len(self.state.channels):
            response.get_channel_response.CopyFrom(self.state.channels[index])

    def _get_get_owner(self, message: admin_pb2.AdminMessage, response: admin_pb2.AdminMessage) -> None:
        response.get_owner_response.CopyFrom(self.state.owner)

    def _get_get_config(self, message: admin_pb2.AdminMessage, response: admin_pb2.AdminMessage) -> None:
        kind = message.get_config_request
        name = CONFIG_FIELDS[kind] if 0 <= kind < len(CONFIG_FIELDS) else None
        if name is None:
            return
        section = getattr(response.get_config_response, name)
        if hasattr(self.state.config, name):
            section.CopyFrom(getattr(self.state.config, name))
        else:
            section.SetInParent()  # sessionkey / device_ui: present but empty

    def _get_get_module_config(self, message: admin_pb2.AdminMessage, response: admin_pb2.AdminMessage) -> None:
        kind = message.get_module_config_request
        if 0 <= kind < len(MODULE_FIELDS) and hasattr(self.state.module_config, MODULE_FIELDS[kind]):
            getattr(response.get_module_config_response, MODULE_FIELDS[kind]).CopyFrom(
                getattr(self.state.module_config, MODULE_FIELDS[kind]))

    def _get_get_canned_message_module_messages(self, message: admin_pb2.AdminMessage,
                                                response: admin_pb2.AdminMessage) -> None:
        response.get_canned_message_module_messages_response = self.state.canned_messages

    def _get_get_ringtone(self, message: admin_pb2.AdminMessage, response: admin_pb2.AdminMessage) -> None:
        response.get_ringtone_response = self.state.ringtone

    def _get_get_device_metadata(self, message: admin_pb2.AdminMessage, response: admin_pb2.AdminMessage) -> None:
        response.get_device_metadata_response.CopyFrom(device_metadata(self.state))

    def _get_get_device_connection_status(self, message: admin_pb2.AdminMessage,
                                          response: admin_pb2.AdminMessage) -> None:
        response.get_device_connection_status_response.CopyFrom(connection_status_pb2.DeviceConnectionStatus())

    def _get_get_ui_config(self, message: admin_pb2.AdminMessage, response: admin_pb2.AdminMessage) -> None:
        response.get_ui_config_response.CopyFrom(device_ui_pb2.DeviceUIConfig())

    # --- setters: change the state ---------------------------------------------------------
    def _do_set_owner(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        owner = message.set_owner
        if owner.long_name:
            self.state.owner.long_name = owner.long_name
        if owner.short_name:
            self.state.owner.short_name = owner.short_name
        self.state.owner.is_licensed = owner.is_licensed
        return AdminOutcome(changed=True)

    def _do_set_channel(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        channel = message.set_channel
        if not 0 <= channel.index < len(self.state.channels):
            return AdminOutcome()
        self.state.channels[channel.index].CopyFrom(channel)
        return AdminOutcome(changed=True)

    def _do_set_config(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        name = message.set_config.WhichOneof("payload_variant")
        if name is None or not hasattr(self.state.config, name):
            return AdminOutcome()
        getattr(self.state.config, name).CopyFrom(getattr(message.set_config, name))
        return AdminOutcome(changed=True)

    def _do_set_module_config(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        name = message.set_module_config.WhichOneof("payload_variant")
        if name is None or not hasattr(self.state.module_config, name):
            return AdminOutcome()
        getattr(self.state.module_config, name).CopyFrom(getattr(message.set_module_config, name))
        return AdminOutcome(changed=True)

    def _do_set_canned_message_module_messages(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        self.state.canned_messages = message.set_canned_message_module_messages
        return AdminOutcome(changed=True)

    def _do_set_ringtone_message(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        self.state.ringtone = message.set_ringtone_message
        return AdminOutcome(changed=True)

    def _do_set_fixed_position(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        self.state.fixed_position.CopyFrom(message.set_fixed_position)
        self.state.config.position.fixed_position = True
        return AdminOutcome(changed=True)

    def _do_remove_fixed_position(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        self.state.fixed_position.Clear()
        self.state.config.position.fixed_position = False
        return AdminOutcome(changed=True)

    def _do_set_favorite_node(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        return self._mark_node(message.set_favorite_node, is_favorite=True)

    def _do_remove_favorite_node(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        return self._mark_node(message.remove_favorite_node, is_favorite=False)

    def _do_set_ignored_node(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        return self._mark_node(message.set_ignored_node, is_ignored=True)

    def _do_remove_ignored_node(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        return self._mark_node(message.remove_ignored_node, is_ignored=False)

    def _do_remove_by_nodenum(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        removed = self.state.nodes.pop(message.remove_by_nodenum, None)
        return AdminOutcome(changed=removed is not None)

    def _do_nodedb_reset(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        self.state.nodes.clear()
        return AdminOutcome(changed=True)

    def _do_commit_edit_settings(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        return AdminOutcome(changed=True)

    def _do_reboot_seconds(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        return AdminOutcome(reboot_after=float(max(message.reboot_seconds, 0)))

    def _do_factory_reset_config(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        fresh = default_state(self.state.owner.long_name)
        self.state.config.CopyFrom(fresh.config)
        self.state.module_config.CopyFrom(fresh.module_config)
        self.state.channels = fresh.channels
        return AdminOutcome(changed=True, reboot_after=1.0)

    def _mark_node(self, num: int, **flags: bool) -> AdminOutcome:
        info = self.state.nodes.get(num)
        if info is None:
            return AdminOutcome()
        for flag, value in flags.items():
            setattr(info, flag, value)
        return AdminOutcome(changed=True)
