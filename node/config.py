"""The node's TOML configuration (``node.toml``): schema, validation and embedded defaults.

Every key has a type and a default, so ``mesh-art node run`` works with no file at all (local
store, gallery, no transports). Any problem gives one line naming the file, section and key::

    node.toml: [mqtt] port must be an integer, got "abc"

Relative paths in the file are relative to the file's directory; the node key defaults to
``<data_dir>/node.key`` and is created (mode 0600) on first run.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from node.lora import preset as lookup_preset
from node.transport.meshtastic_radio import RadioSettings, parse_device
from node.transport.mqtt import MqttSettings

LOG_LEVELS = ("debug", "info", "warning", "error")
STORE_KINDS = ("sqlite", "memory")


class ConfigError(Exception):
    """A one-line, user-facing configuration problem."""


Check = Callable[[Any], str | None]  # returns a problem ("must be ...") or None


@dataclass(frozen=True)
class Key:
    """One config key: its type name, default and an optional extra check."""

    kind: str  # "str", "int", "float", "bool", "list[str]"
    default: Any = None
    check: Check | None = None


def _between(low: float, high: float) -> Check:
    return lambda v: None if low <= v <= high else f"must be between {low:g} and {high:g}"


def _positive(v: Any) -> str | None:
    return None if v > 0 else "must be greater than 0"


def _one_of(*choices: str) -> Check:
    return lambda v: None if v in choices else f"must be one of {', '.join(choices)}"


def _preset_check(v: Any) -> str | None:
    try:
        lookup_preset(v)
    except ValueError as exc:
        return f"is not usable: {exc}"
    return None


def _device_check(v: Any) -> str | None:
    try:
        parse_device(v)
    except ValueError as exc:
        return f"is not usable: {exc}"
    return None


def _path_problem(text: str) -> str | None:
    if "\x00" in text:
        return "must not contain a NUL character"
    try:
        Path(text).expanduser()
    except RuntimeError:  # "~user/..." for a user this system does not have
        return "names the home directory of an unknown user"
    return None


def _path(v: Any) -> str | None:
    return None if v is None else _path_problem(v)


def _paths(v: Any) -> str | None:
    return next((problem for text in v if (problem := _path_problem(text))), None)


def _name_part(v: Any) -> str | None:
    return None if v and not any(c in v for c in "/+#") else "must be non-empty without '/', '+' or '#'"


SCHEMA: dict[str, dict[str, Key]] = {
    "node": {
        "name": Key("str", "Mesh Art Node"),
        "venue": Key("str", ""),
        "lat": Key("float", None, _between(-90, 90)),
        "lon": Key("float", None, _between(-180, 180)),
        "data_dir": Key("str", None, _path),
        "key_file": Key("str", None, _path),
        "trust": Key("list[str]", [], _paths),
        "kit": Key("str", None, _path),
        "store": Key("str", "sqlite", _one_of(*STORE_KINDS)),
        "quota_mb": Key("int", 512, _positive),
        "upload_limit_kb": Key("int", 512, _positive),
        "seed": Key("int", None),
    },
    "http": {
        "host": Key("str", "0.0.0.0"),
        "port": Key("int", 8080, _between(0, 65535)),
        "public_url": Key("str", "/"),
    },
    "log": {
        "level": Key("str", "info", _one_of(*LOG_LEVELS)),
    },
    "radio": {
        "enabled": Key("bool", True),
        "device": Key("str", None, _device_check),
        "port": Key("int", 256, _between(256, 511)),
        "preset": Key("str", "LONG_FAST", _preset_check),
        "duty_cycle_share": Key("float", 0.9, _between(0.01, 1.0)),
        "connect_timeout_s": Key("float", 60.0, _positive),
        "close_timeout_s": Key("float", 10.0, _positive),
    },
    "mqtt": {
        "enabled": Key("bool", True),
        "host": Key("str", None),
        "port": Key("int", 1883, _between(1, 65535)),
        "exhibition": Key("str", None, _name_part),
        "root": Key("str", "meshart", _name_part),
        "username": Key("str", None),
        "password": Key("str", None),
        "password_file": Key("str", None, _path),
        "tls": Key("bool", False),
        "ca_file": Key("str", None, _path),
        "cert_file": Key("str", None, _path),
        "key_file": Key("str", None, _path),
        "keepalive_s": Key("int", 30, _between(5, 3600)),
        "rate_bytes_per_s": Key("float", 2048.0, _positive),
        "max_frames_per_s": Key("float", 20.0, _positive),
        "max_bytes_per_s": Key("float", 4096.0, _positive),
        "max_inbound_frames_per_s": Key("float", 50.0, _positive),
        "backoff_max_s": Key("float", 60.0, _positive),
    },
    "engine": {
        "beacon_interval_s": Key("float", 900.0, _positive),
        "trickle_imin_s": Key("float", 30.0, _positive),
        "trickle_doublings": Key("int", 7, _between(0, 16)),
        "request_quiet_slots": Key("float", 8.0, _positive),
        "request_retry_max_s": Key("float", 600.0, _positive),
        "refused_backoff_s": Key("float", 30.0, _positive),
        "neighbour_control_burst": Key("int", 12, _between(1, 100_000)),
        "neighbour_control_per_min": Key("float", 20.0, _positive),
    },
}

REQUIRED_WHEN_ENABLED = {"radio": ("device",), "mqtt": ("host", "exhibition")}


@dataclass(frozen=True)
class NodeConfig:
    """The validated configuration the daemon runs with."""

    name: str = "Mesh Art Node"
    venue: str = ""
    lat: float | None = None
    lon: float | None = None
    data_dir: Path = Path("mesh-art-data")
    key_file: Path = Path("mesh-art-data/node.key")
    trust: tuple[str, ...] = ()
    kit: Path | None = None  # the exhibition kit: radio checks against it, the About page's channel QR
    store: str = "sqlite"
    quota_mb: int = 512
    upload_limit_kb: int = 512
    seed: int | None = None
    http_host: str = "0.0.0.0"
    http_port: int = 8080
    http_public_url: str = "/"
    log_level: str = "info"
    radio: RadioSettings | None = None
    radio_duty_cycle_share: float = 0.9
    mqtt: MqttSettings | None = None
    mqtt_rate_bytes_per_s: float = 2048.0
    engine: dict[str, Any] = field(default_factory=dict)  # EngineConfig tuning set in [engine]
    source: str = "(defaults)"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    return json.dumps(value) if isinstance(value, int | float | list) else repr(value)


_TYPE_WORDS = {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false",
               "list[str]": "a list of strings"}


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def validate(doc: Mapping[str, Any], source: str) -> dict[str, dict[str, Any]]:
    """Check ``doc`` against :data:`SCHEMA`; every section with every key filled in."""
    result: dict[str, dict[str, Any]] = {}
    for section in doc:
        if section not in SCHEMA:
            known = ", ".join(f"[{s}]" for s in SCHEMA)
            raise ConfigError(f"{source}: unknown section [{section}] (known: {known})")
        if not isinstance(doc[section], Mapping):
            raise ConfigError(f"{source}: {section} must be a table [{section}], got {_show(doc[section])}")
    for section, keys in SCHEMA.items():
        given = doc.get(section, {})
        values: dict[str, Any] = {}
        for key in given:
            if key not in keys:
                raise ConfigError(f"{source}: [{section}] unknown key {key!r} (known: {', '.join(keys)})")
        for key, spec in keys.items():
            if key not in given:
                values[key] = spec.default
                continue
            value = given[key]
            if not _type_ok(spec.kind, value):
                raise ConfigError(f"{source}: [{section}] {key} must be {_TYPE_WORDS[spec.kind]}, got {_show(value)}")
            if spec.kind == "float":
                try:
                    value = float(value)
                except OverflowError:  # TOML integers have no size limit
                    raise ConfigError(f"{source}: [{section}] {key} is out of range, got {_show(value)}") from None
            problem = spec.check(value) if spec.check else None
            if problem:
                raise ConfigError(f"{source}: [{section}] {key} {problem}, got {_show(value)}")
            values[key] = value
        if section in doc and values.get("enabled", True):
            for key in REQUIRED_WHEN_ENABLED.get(section, ()):
                if values[key] is None:
                    raise ConfigError(f"{source}: [{section}] {key} is required when [{section}] is present")
        values["_present"] = section in doc
        result[section] = values
    return result


def default_data_dir() -> Path:
    """systemd's ``$STATE_DIRECTORY`` if set, else ``~/.local/share/mesh-art``."""
    state = os.environ.get("STATE_DIRECTORY")
    if state:
        return Path(state.split(":")[0])
    return Path.home() / ".local" / "share" / "mesh-art"


def load_config(path: Path | None, overrides: Mapping[str, Any] | None = None) -> NodeConfig:
    """Read and validate ``path`` (None: embedded defaults), then apply command-line overrides.

    ``overrides`` uses ``"section.key"`` names, e.g. ``{"http.port": 9000}``; None values are
    ignored.
    """
    doc: dict[str, Any] = {}
    source = "(defaults)"
    base = Path.cwd()
    if path is not None:
        source = path.name
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: not valid TOML: {exc}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{source}: not valid UTF-8 text") from None
        except ValueError as exc:  # tomllib lets int()'s digit limit (4300) through as ValueError
            raise ConfigError(f"{source}: not usable TOML: {exc}") from None
        base = path.resolve().parent
    for name, value in (overrides or {}).items():
        if value is not None:
            section, key = name.split(".")
            doc.setdefault(section, {})[key] = value
    return build_config(validate(doc, source), base, source, frozenset(doc.get("engine", {})))


def _resolve(base: Path, text: str) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() else base / path


def _read_secret(base: Path, text: str, source: str) -> str:
    try:
        return _resolve(base, text).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{source}: [mqtt] password_file {text!r} cannot be read: {exc.strerror}") from None


def build_config(v: dict[str, dict[str, Any]], base: Path, source: str,
                 given_engine_keys: frozenset[str] = frozenset()) -> NodeConfig:
    """Turn validated sections into a :class:`NodeConfig` (``[engine]`` keys only when given)."""
    node = v["node"]
    data_dir = _resolve(base, node["data_dir"]) if node["data_dir"] else default_data_dir()
    key_file = _resolve(base, node["key_file"]) if node["key_file"] else data_dir / "node.key"
    trust = tuple(str(_resolve(base, t)) if _resolve(base, t).is_file() else t for t in node["trust"])
    radio_v, mqtt_v = v["radio"], v["mqtt"]
    radio = None
    if radio_v["_present"] and radio_v["enabled"]:
        radio = RadioSettings(device=radio_v["device"], port=radio_v["port"], preset=radio_v["preset"],
                              connect_timeout_s=radio_v["connect_timeout_s"],
                              close_timeout_s=radio_v["close_timeout_s"])
    mqtt = None
    if mqtt_v["_present"] and mqtt_v["enabled"]:
        password = mqtt_v["password"]
        if mqtt_v["password_file"]:
            password = _read_secret(base, mqtt_v["password_file"], source)
        files = [str(_resolve(base, mqtt_v[k])) if mqtt_v[k] else None for k in ("ca_file", "cert_file", "key_file")]
        mqtt = MqttSettings(
            host=mqtt_v["host"], exhibition=mqtt_v["exhibition"], port=mqtt_v["port"], root=mqtt_v["root"],
            username=mqtt_v["username"], password=password, tls=mqtt_v["tls"], keepalive=mqtt_v["keepalive_s"],
            max_frames_per_s=mqtt_v["max_frames_per_s"], max_bytes_per_s=mqtt_v["max_bytes_per_s"],
            max_inbound_frames_per_s=mqtt_v["max_inbound_frames_per_s"], backoff_max_s=mqtt_v["backoff_max_s"],
            ca_file=files[0], cert_file=files[1], key_file=files[2],
        )
    return NodeConfig(
        name=node["name"], venue=node["venue"], lat=node["lat"], lon=node["lon"], data_dir=data_dir,
        key_file=key_file, trust=trust, kit=_resolve(base, node["kit"]) if node["kit"] else None,
        store=node["store"], quota_mb=node["quota_mb"],
        upload_limit_kb=node["upload_limit_kb"], seed=node["seed"],
        http_host=v["http"]["host"], http_port=v["http"]["port"],
        http_public_url=v["http"]["public_url"], log_level=v["log"]["level"],
        radio=radio, radio_duty_cycle_share=radio_v["duty_cycle_share"],
        mqtt=mqtt, mqtt_rate_bytes_per_s=mqtt_v["rate_bytes_per_s"], source=source,
        engine={k: value for k, value in v["engine"].items() if k != "_present" and k in given_engine_keys},
    )
