"""node.toml validation: one clear line naming the key, and working embedded defaults."""

from pathlib import Path

import pytest

from node.config import ConfigError, load_config

REPO = Path(__file__).resolve().parents[2]


def load(tmp_path, text, **overrides):
    path = tmp_path / "node.toml"
    path.write_text(text)
    return load_config(path, overrides)


@pytest.mark.parametrize(("text", "message"), [
    ('[mqtt]\nhost = "b"\nexhibition = "x"\nport = "abc"\n', 'node.toml: [mqtt] port must be an integer, got "abc"'),
    ("[node]\nnmae = 1\n", "node.toml: [node] unknown key 'nmae'"),
    ("[gallery]\nport = 1\n", "node.toml: unknown section [gallery]"),
    ("[http]\nport = 70000\n", "node.toml: [http] port must be between 0 and 65535, got 70000"),
    ("[radio]\ndevice = \"serial\"\nport = 100\n", "node.toml: [radio] port must be between 256 and 511"),
    ("[radio]\ndevice = \"usb0\"\n", "node.toml: [radio] device is not usable"),
    ("[radio]\ndevice = \"serial\"\npreset = \"SHORT_TURBO\"\n", "not allowed in EU_868"),
    ("[radio]\nport = 256\n", "node.toml: [radio] device is required"),
    ("[mqtt]\nhost = \"b\"\n", "node.toml: [mqtt] exhibition is required"),
    ("[mqtt]\nhost = \"b\"\nexhibition = \"a/b\"\n", "[mqtt] exhibition must be non-empty without '/'"),
    ("[node]\ntrust = \"abc\"\n", 'node.toml: [node] trust must be a list of strings, got "abc"'),
    ("[radio]\nenabled = 1\n", "node.toml: [radio] enabled must be true or false, got 1"),
    ("[node\n", "node.toml: not valid TOML"),
])
def test_errors_are_one_line_naming_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


def test_embedded_defaults_need_no_file(tmp_path, monkeypatch):
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))
    config = load_config(None)
    assert config.data_dir == tmp_path / "state"
    assert config.key_file == tmp_path / "state" / "node.key"
    assert config.radio is None and config.mqtt is None
    assert config.http_port == 8080 and config.store == "sqlite"


def test_paths_are_relative_to_the_file_and_overrides_win(tmp_path):
    (tmp_path / "secret").write_text("hunter2\n")
    config = load(tmp_path, '[node]\ndata_dir = "data"\n[mqtt]\nhost = "b"\nexhibition = "x"\n'
                  'password_file = "secret"\n[engine]\ntrickle_imin_s = 2\n',
                  **{"http.port": 9000, "mqtt.port": 8883})
    assert config.data_dir == tmp_path / "data"
    assert config.http_port == 9000
    assert config.mqtt is not None and config.mqtt.port == 8883 and config.mqtt.password == "hunter2"
    assert config.engine == {"trickle_imin_s": 2.0}


def test_a_disabled_section_needs_no_required_keys(tmp_path):
    config = load(tmp_path, "[radio]\nenabled = false\n[mqtt]\nenabled = false\n")
    assert config.radio is None and config.mqtt is None


def test_the_annotated_example_is_valid():
    config = load_config(REPO / "docs" / "examples" / "node.toml")
    assert config.radio is not None and config.radio.port == 256
    assert config.mqtt is None  # shown, but disabled
    assert config.trust == ("/etc/mesh-art/kit/curator.pub",)  # where install-pi.sh puts the kit
