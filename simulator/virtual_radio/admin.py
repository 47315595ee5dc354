"""Answers to AdminMessages a client sends to its own radio, applied to the radio's state.

Every request that asks for something gets a response (so the library never waits forever:
``--export-config`` blocks without a timeout on the canned-message and ringtone answers);
every setter changes :class:`RadioState`, so a later handshake or export shows the new value.
Setters follow firmware 2.7.26 ``AdminModule``: which changes need a reboot (``saveChanges`` with
``shouldReboot``, deferred while a ``begin_edit_settings`` transaction is open), the role defaults a
new role installs, the keys made when the region is first set, the 500 kHz preset fallback, ham
mode and the two factory resets.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from meshtastic.protobuf import (
    admin_pb2,
    channel_pb2,
    config_pb2,
    connection_status_pb2,
    device_ui_pb2,
    mesh_pb2,
    module_config_pb2,
)

from node.lora import EU868_PRESETS
from simulator.virtual_radio import pki
from simulator.virtual_radio.handshake import device_metadata
from simulator.virtual_radio.rf import EU868_END_MHZ, EU868_START_MHZ
from simulator.virtual_radio.state import RadioState, factory_state

ConfigType = admin_pb2.AdminMessage.ConfigType
Role = config_pb2.Config.DeviceConfig.Role
RebroadcastMode = config_pb2.Config.DeviceConfig.RebroadcastMode
LoRaConfig = config_pb2.Config.LoRaConfig
Level = mesh_pb2.LogRecord.Level
Error = mesh_pb2.Routing.Error
# The ConfigType and ModuleConfigType enums number the Config / ModuleConfig oneof fields in order.
CONFIG_FIELDS = [f.name for f in config_pb2.Config.DESCRIPTOR.oneofs_by_name["payload_variant"].fields]
MODULE_FIELDS = [f.name for f in module_config_pb2.ModuleConfig.DESCRIPTOR.oneofs_by_name["payload_variant"].fields]
MIN_NODE_INFO_BROADCAST_S = 60 * 60  # Default.h min_node_info_broadcast_secs
WIDE_PRESETS_KHZ = {"SHORT_TURBO": 500.0, "LONG_TURBO": 500.0}  # MeshRadio.h modemPresetToParams
REGION_SPAN_KHZ = {LoRaConfig.RegionCode.EU_868: (EU868_END_MHZ - EU868_START_MHZ) * 1000.0}
# The LoRa fields whose change makes the firmware reboot (AdminModule::handleSetConfig, lora case).
LORA_RADIO_FIELDS = ("use_preset", "region", "modem_preset", "bandwidth", "spread_factor", "coding_rate", "tx_power",
                     "frequency_offset", "override_frequency", "channel_num", "sx126x_rx_boosted_gain")
DEVICE_REBOOT_FIELDS = ("button_gpio", "buzzer_gpio", "role", "rebroadcast_mode")
POWER_REBOOT_FIELDS = ("device_battery_ina_address", "is_power_saving", "ls_secs", "min_wake_secs",
                       "on_battery_shutdown_after_secs", "sds_secs", "wait_bluetooth_secs")
DISPLAY_REBOOT_FIELDS = ("screen_on_secs", "flip_screen", "oled", "displaymode")
SECURITY_REBOOT_FIELDS = ("debug_log_api_enabled", "serial_enabled")
ADMIN_CHANNEL_NAME = "admin"
LICENSED_MODE_WARNING = ("Licensed mode activated, removing admin channel and encryption from all channels")


@dataclass
class AdminOutcome:
    """What handling one AdminMessage produced."""

    response: admin_pb2.AdminMessage | None = None
    error: int | None = None  # a Routing error the firmware answers with (allocErrorResponse)
    changed: bool = False  # the state was modified (persist it; the channel setup may differ)
    reboot: bool = False  # firmware reboots DEFAULT_REBOOT_SECONDS later (saveChanges with shouldReboot)
    reboot_after: float | None = None  # an explicit reboot_seconds request
    announce_owner: bool = False  # MeshService::reloadOwner(shouldSave): broadcast our NodeInfo
    announce_position: bool = False  # set_fixed_position: "Send our new fixed position to the mesh"
    notifications: list[mesh_pb2.ClientNotification] = field(default_factory=list)


def notification(level: int, message: str) -> mesh_pb2.ClientNotification:
    """A ClientNotification as the firmware's ``sendWarning`` and ``applyModemConfig`` send them."""
    return mesh_pb2.ClientNotification(level=level, message=message, time=int(time.time()))


def ensure_licensed_operation(state: RadioState) -> bool:
    """Ham mode: no encryption on any channel, no admin channel (``Channels::ensureLicensedOperation``)."""
    if not state.owner.is_licensed:
        return False
    cleared = False
    for channel in state.channels:
        if not channel.HasField("settings"):
            continue
        if channel.settings.name.lower() == ADMIN_CHANNEL_NAME:
            channel.role = channel_pb2.Channel.Role.DISABLED
            channel.settings.psk = b""
            cleared = True
        elif channel.settings.psk:
            channel.settings.psk = b""
            cleared = True
    state.owner.public_key = b""  # NodeInfoModule::allocReply strips it for licensed users
    return cleared


def install_role_defaults(state: RadioState, role: int) -> None:
    """What a new role installs (``NodeDB::installRoleDefaults``); ROUTER goes deaf to non-core ports."""
    if role == Role.ROUTER:
        state.module_config.telemetry.device_update_interval = 12 * 3600  # default_telemetry_broadcast_interval_secs
        state.config.position.position_broadcast_secs = 12 * 3600  # initConfigIntervals (IF_ROUTER)
        state.config.device.rebroadcast_mode = RebroadcastMode.CORE_PORTNUMS_ONLY  # since 2.7.0
        state.owner.is_unmessagable = True
    elif role in (Role.ROUTER_LATE, Role.SENSOR, Role.TRACKER, Role.TAK_TRACKER):
        state.owner.is_unmessagable = True


def requested_bandwidth_khz(lora: config_pb2.Config.LoRaConfig) -> float:
    """The bandwidth a LoRa config asks for, before any region check."""
    if not lora.use_preset and lora.bandwidth:
        return float(lora.bandwidth)
    name = LoRaConfig.ModemPreset.Name(lora.modem_preset)
    if name in WIDE_PRESETS_KHZ:
        return WIDE_PRESETS_KHZ[name]
    return EU868_PRESETS.get(name, EU868_PRESETS["LONG_FAST"]).bw_hz / 1000.0


def _differs(old: object, new: object, names: tuple[str, ...]) -> bool:
    return any(getattr(old, name) != getattr(new, name) for name in names)


def _blank(text: str) -> bool:
    return bool(text) and not text.strip()


class AdminHandler:
    """Applies admin requests to one radio's state."""

    def __init__(self, state: RadioState, rng: random.Random | None = None) -> None:
        self.state = state
        self.rng = rng or random.Random()
        self.session_passkey = self.rng.getrandbits(64).to_bytes(8, "little")
        self.editing = False  # a begin_edit_settings transaction is open

    def boot(self) -> None:
        """A reboot closes any open edit transaction (it lives in RAM)."""
        self.editing = False

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

    def _saved(self, reboot: bool = True, announce_owner: bool = False) -> AdminOutcome:
        """``AdminModule::saveChanges``: reboot only outside an edit transaction."""
        return AdminOutcome(changed=True, reboot=reboot and not self.editing, announce_owner=announce_owner)

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
    def _do_begin_edit_settings(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        self.editing = True
        return AdminOutcome()

    def _do_commit_edit_settings(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        self.editing = False
        return self._saved()  # saveChanges(everything) with the default shouldReboot = true

    def _do_set_owner(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        new, owner = message.set_owner, self.state.owner
        if _blank(new.long_name) or _blank(new.short_name):  # "must contain at least 1 non-whitespace character"
            return AdminOutcome(error=Error.BAD_REQUEST)
        changed = False
        if new.long_name and new.long_name != owner.long_name:
            owner.long_name, changed = new.long_name, True
        if new.short_name and new.short_name != owner.short_name:
            owner.short_name, changed = new.short_name, True
        outcome = AdminOutcome()
        if new.is_licensed != owner.is_licensed:
            owner.is_licensed, changed = new.is_licensed, True
            if ensure_licensed_operation(self.state):
                outcome.notifications.append(notification(Level.WARNING, LICENSED_MODE_WARNING))
        if new.HasField("is_unmessagable") and new.is_unmessagable != owner.is_unmessagable:
            owner.is_unmessagable, changed = new.is_unmessagable, True
        if not changed:  # "If nothing really changed, don't broadcast on the network or write to flash"
            return outcome
        saved = self._saved(announce_owner=not self.editing)
        saved.notifications = outcome.notifications
        return saved

    def _do_set_channel(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        channel = message.set_channel
        if not 0 <= channel.index < len(self.state.channels):
            return AdminOutcome(error=Error.BAD_REQUEST)
        self.state.channels[channel.index].CopyFrom(channel)
        outcome = self._saved(reboot=False)
        if ensure_licensed_operation(self.state):
            outcome.notifications.append(notification(Level.WARNING, LICENSED_MODE_WARNING))
        return outcome

    def _do_set_config(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        name = message.set_config.WhichOneof("payload_variant")
        if name is None or not hasattr(self.state.config, name):
            return AdminOutcome()
        new = getattr(message.set_config, name)
        old = type(new)()
        old.CopyFrom(getattr(self.state.config, name))
        outcome = AdminOutcome()
        reboot = True  # position, network and bluetooth always reboot
        if name == "device":
            reboot = self._set_device(old, new, outcome)
        elif name == "lora":
            reboot = self._set_lora(old, new, outcome)
        else:
            getattr(self.state.config, name).CopyFrom(new)
            if name == "power":
                reboot = _differs(old, new, POWER_REBOOT_FIELDS)
            elif name == "display":
                reboot = _differs(old, new, DISPLAY_REBOOT_FIELDS)
            elif name == "security":
                reboot = _differs(old, new, SECURITY_REBOOT_FIELDS)
                security = self.state.config.security
                if len(security.private_key) != pki.KEY_BYTES:  # "the client set the key to blank": regenerate
                    security.ClearField("private_key")
                self.state.ensure_keys(lambda: pki.private_key_from_rng(self.rng))
        saved = self._saved(reboot=reboot)
        saved.notifications = outcome.notifications
        return saved

    def _set_device(self, old: config_pb2.Config.DeviceConfig, new: config_pb2.Config.DeviceConfig,
                    outcome: AdminOutcome) -> bool:
        device = self.state.config.device
        device.CopyFrom(new)
        if device.rebroadcast_mode == RebroadcastMode.NONE and device.role in (Role.ROUTER, Role.ROUTER_LATE):
            device.rebroadcast_mode = RebroadcastMode.ALL
            outcome.notifications.append(notification(Level.WARNING,
                                                      "Rebroadcast mode can't be set to NONE for a router role"))
        if old.role != new.role:
            install_role_defaults(self.state, new.role)
        if device.node_info_broadcast_secs < MIN_NODE_INFO_BROADCAST_S:
            device.node_info_broadcast_secs = MIN_NODE_INFO_BROADCAST_S
        if new.role in (Role.ROUTER_CLIENT, Role.REPEATER):  # deprecated roles become CLIENT
            device.role = Role.CLIENT
        return _differs(old, new, DEVICE_REBOOT_FIELDS)

    def _set_lora(self, old: config_pb2.Config.LoRaConfig, new: config_pb2.Config.LoRaConfig,
                  outcome: AdminOutcome) -> bool:
        lora = self.state.lora
        lora.CopyFrom(new)
        span_khz = REGION_SPAN_KHZ.get(lora.region)
        bw_khz = requested_bandwidth_khz(lora)
        if span_khz is not None and bw_khz > span_khz:
            # RadioInterface::applyModemConfig falls back to LongFast and stores it. (Before 2.7.19 the
            # message read "Regional frequency range is smaller than bandwidth. Fall back to default preset".)
            preset = LoRaConfig.ModemPreset.Name(new.modem_preset) if new.use_preset else "custom"
            message = (f"{LoRaConfig.RegionCode.Name(lora.region)} region too narrow for 500kHz preset ({preset}). "
                       "Falling back to LongFast." if bw_khz >= 499.5 else
                       f"{LoRaConfig.RegionCode.Name(lora.region)} region span {span_khz:.0f}kHz < requested "
                       f"{bw_khz:.0f}kHz. Falling back to LongFast.")
            outcome.notifications.append(notification(Level.ERROR, message))
            lora.use_preset = True
            lora.modem_preset = LoRaConfig.ModemPreset.LONG_FAST
        if old.region == LoRaConfig.RegionCode.UNSET and lora.region != LoRaConfig.RegionCode.UNSET:
            self.state.first_region_set(lambda: pki.private_key_from_rng(self.rng))
        return _differs(old, new, LORA_RADIO_FIELDS)

    def _do_set_module_config(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        name = message.set_module_config.WhichOneof("payload_variant")
        if name is None or not hasattr(self.state.module_config, name):
            return AdminOutcome()
        getattr(self.state.module_config, name).CopyFrom(getattr(message.set_module_config, name))
        return self._saved()  # handleSetModuleConfig: shouldReboot for every module

    def _do_set_ham_mode(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        ham = message.set_ham_mode
        if _blank(ham.call_sign) or _blank(ham.short_name):
            return AdminOutcome()  # AdminModule::handleSetHamMode rejects it with a log line only
        owner, lora = self.state.owner, self.state.lora
        owner.long_name, owner.short_name, owner.is_licensed = ham.call_sign, ham.short_name, True
        lora.override_duty_cycle = True
        lora.tx_power = ham.tx_power
        lora.override_frequency = ham.frequency
        self.state.config.device.node_info_broadcast_secs = 600  # FCC call-sign announcement
        self.state.config.device.rebroadcast_mode = RebroadcastMode.LOCAL_ONLY
        outcome = self._saved()
        if ensure_licensed_operation(self.state):
            outcome.notifications.append(notification(Level.WARNING, LICENSED_MODE_WARNING))
        return outcome

    def _do_set_canned_message_module_messages(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        self.state.canned_messages = message.set_canned_message_module_messages
        return AdminOutcome(changed=True)

    def _do_set_ringtone_message(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        self.state.ringtone = message.set_ringtone_message
        return AdminOutcome(changed=True)

    def _do_set_fixed_position(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        self.state.fixed_position.CopyFrom(message.set_fixed_position)
        self.state.config.position.fixed_position = True
        return AdminOutcome(changed=True, announce_position=True)

    def _do_remove_fixed_position(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        self.state.fixed_position.Clear()
        self.state.config.position.fixed_position = False
        return AdminOutcome(changed=True)

    def _do_set_favorite_node(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        return self._mark_node(message.set_favorite_node, is_favorite=True)

    def _do_remove_favorite_node(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        return self._mark_node(message.remove_favorite_node, is_favorite=False)

    def _do_set_ignored_node(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        info = self.state.nodes.get(message.set_ignored_node)
        if info is not None:  # the firmware also forgets what it knew of the node
            info.ClearField("device_metrics")
            info.ClearField("position")
            info.user.public_key = b""
        return self._mark_node(message.set_ignored_node, is_ignored=True)

    def _do_remove_ignored_node(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        return self._mark_node(message.remove_ignored_node, is_ignored=False)

    def _do_remove_by_nodenum(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        removed = self.state.nodes.pop(message.remove_by_nodenum, None)
        return AdminOutcome(changed=removed is not None)

    def _do_nodedb_reset(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        role = self.state.config.device.role
        keep_favorites = message.nodedb_reset or role in (Role.CLIENT_BASE, Role.ROUTER, Role.ROUTER_LATE)
        self.state.nodes = {num: info for num, info in self.state.nodes.items() if keep_favorites and info.is_favorite}
        return AdminOutcome(changed=True, reboot=True)

    def _do_reboot_seconds(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        if message.reboot_seconds < 0:
            return AdminOutcome()  # "rebootAtMsec = 0": no reboot
        return AdminOutcome(reboot_after=float(message.reboot_seconds))

    def _do_factory_reset_config(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        return self._factory_reset(keep_private_key=True)

    def _do_factory_reset_device(self, message: admin_pb2.AdminMessage) -> AdminOutcome:
        return self._factory_reset(keep_private_key=False)  # also erases the private key (and BLE bonds)

    def _factory_reset(self, keep_private_key: bool) -> AdminOutcome:
        """``NodeDB::factoryReset``: defaults everywhere, so the radio stays silent until a region is set."""
        key = self.state.config.security.private_key if keep_private_key else b""
        fresh = factory_state(self.state.node_num, key)
        state = self.state
        state.owner, state.channels, state.config, state.module_config = (fresh.owner, fresh.channels, fresh.config,
                                                                          fresh.module_config)
        state.fixed_position, state.nodes = fresh.fixed_position, fresh.nodes
        state.canned_messages, state.ringtone = fresh.canned_messages, fresh.ringtone
        return AdminOutcome(changed=True, reboot=True)

    def _mark_node(self, num: int, **flags: bool) -> AdminOutcome:
        info = self.state.nodes.get(num)
        if info is None:
            return AdminOutcome()
        for flag, value in flags.items():
            setattr(info, flag, value)
        return AdminOutcome(changed=True)
