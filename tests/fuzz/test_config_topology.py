"""Fuzzing node.toml (``node.config.load_config``) and topology files
(``simulator.scenarios.parse_topology``): each input loads or fails with the one-line error class."""

from __future__ import annotations

import json
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.config import SCHEMA, ConfigError, NodeConfig, load_config
from simulator.scenarios import Topology, TopologyError, parse_topology
from tests.fuzz.corpus import load
from tests.fuzz.mutate import Mutator, odd_value


def load_config_text(tmp_path, data: bytes) -> str:
    path = tmp_path / "node.toml"
    path.write_bytes(data)
    try:
        config = load_config(path)
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return "reject"
    assert isinstance(config, NodeConfig)
    return "ok"


def test_mutated_config_files_load_or_raise_config_error(tmp_path):
    mutator = Mutator(random.Random(11), load("configs"), 2000)
    outcomes = [load_config_text(tmp_path, data) for data in mutator.stream(1500)]
    assert outcomes.count("ok") > 50 and outcomes.count("reject") > 500


toml_scalars = st.one_of(st.integers(), st.floats(), st.booleans(), st.text(max_size=20),
                         st.lists(st.text(max_size=8), max_size=3), st.lists(st.integers(), max_size=2))


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(str(value), repr(value))
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value) if isinstance(value, str) else str(value)


sections = st.sampled_from([*sorted(SCHEMA), "bogus"])
keys_for = {s: [*sorted(keys), "bogus"] for s, keys in SCHEMA.items()} | {"bogus": ["x"]}


@st.composite
def config_documents(draw) -> str:
    lines = []
    for section in draw(st.lists(sections, max_size=4, unique=True)):
        lines.append(f"[{section}]")
        for key in draw(st.lists(st.sampled_from(keys_for[section]), max_size=5, unique=True)):
            special = st.sampled_from(['"~nosuchuser_fuzz/x"', '"a\\u0000b"', '"tcp:"', '"serial"', "1e400",
                                       "9" * 30, '"LONG_SLOW"', '"x/y"'])
            lines.append(f"{key} = {draw(st.one_of(toml_scalars.map(toml_value), special))}")
    return "\n".join(lines) + "\n"


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config_documents())
def test_generated_config_documents_load_or_raise_config_error(tmp_path, text):
    load_config_text(tmp_path, text.encode())


def test_home_directory_of_an_unknown_user_is_a_config_error(tmp_path):
    """Regression (fuzz): ``~user/...`` paths for a user that does not exist raised RuntimeError."""
    for key in ("data_dir", "key_file"):
        assert load_config_text(tmp_path, f'[node]\n{key} = "~nosuchuser_fuzz/x"\n'.encode()) == "reject"


def test_a_huge_integer_for_a_number_key_is_a_config_error(tmp_path):
    """Regression (fuzz): ``float()`` of an integer beyond the float range raised OverflowError."""
    assert load_config_text(tmp_path, b"[node]\nlat = " + b"9" * 400 + b"\n") == "reject"
    assert load_config_text(tmp_path, b"[node]\nquota_mb = " + b"9" * 5000 + b"\n") == "reject"


def test_nul_in_a_path_is_a_config_error(tmp_path):
    """Regression (fuzz): a NUL character in a path passed validation and raised ValueError later."""
    assert load_config_text(tmp_path, b'[node]\ntrust = ["a\\u0000b"]\n') == "reject"
    assert load_config_text(tmp_path, b'[mqtt]\nhost = "h"\nexhibition = "e"\npassword_file = "p\\u0000"\n') == "reject"


# ---- topology files ------------------------------------------------------------------------------

def parse(text: str) -> str:
    try:
        topology = parse_topology(text, "fuzz.json")
    except TopologyError as exc:
        assert "\n" not in str(exc)
        return "reject"
    assert isinstance(topology, Topology) and topology.source in {n.name for n in topology.nodes}
    return "ok"


def test_mutated_topology_files_parse_or_raise_topology_error():
    mutator = Mutator(random.Random(12), load("topologies"), 4000)
    outcomes = [parse(data.decode("utf-8", errors="replace")) for data in mutator.stream(3000)]
    assert outcomes.count("ok") > 100 and outcomes.count("reject") > 1000


def jsonable(value):
    """odd_value() output as JSON: bytes become hex text, map keys text."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value.hex() if isinstance(value, bytes) else value


def test_structurally_mutated_topologies_parse_or_raise_topology_error():
    rng = random.Random(13)
    docs = [json.loads(raw) for raw in load("topologies")]
    for _ in range(3000):
        doc = json.loads(json.dumps(rng.choice(docs)))
        holder = doc
        for _ in range(rng.randrange(1, 3)):
            lists = [k for k, v in holder.items() if isinstance(v, list) and v]
            if lists and rng.random() < 0.7:
                holder = rng.choice(holder[rng.choice(lists)])
                if not isinstance(holder, dict):
                    break
        if isinstance(holder, dict):
            key = rng.choice([*holder, "a", "b", "node", "state", "x"])
            holder[key] = odd_value(rng)
        text = json.dumps(jsonable(doc))
        parse(text)


def test_unhashable_link_ends_and_deep_nesting_are_topology_errors():
    """Regression (fuzz): a list as a link end or reboot node raised TypeError; deeply nested
    JSON raised RecursionError and a 5000-digit number ValueError, not TopologyError."""
    base = {"source": "a", "nodes": [{"name": "a", "lat": 1, "lon": 1}, {"name": "b", "lat": 1, "lon": 2}]}
    assert parse(json.dumps({**base, "links": [{"a": ["a"], "b": "b"}]})) == "reject"
    assert parse(json.dumps({**base, "reboots": [{"node": {"x": 1}, "at_s": 1}]})) == "reject"
    assert parse(json.dumps({**base, "links": [{"a": "a", "b": "b", "state": ["up"]}]})) == "reject"
    assert parse("[" * 100_000 + "]" * 100_000) == "reject"
    assert parse('{"source": "a", "nodes": [{"name": "a", "lat": ' + "1" * 5000 + ', "lon": 1}]}') == "reject"
