"""Workloads: the named exhibition, workload files, and runs with many works from several venues."""

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from node.artwork.manifest import verify_manifest
from simulator.runner import RunSpec, run
from simulator.scenarios import Reboot, load_scenario
from simulator.workload import (
    VENUES,
    WorkloadError,
    WorkSpec,
    exhibition_specs,
    load_workload_file,
    make_workload,
    resolve_specs,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_exhibition_is_twenty_mixed_works_at_the_four_venues_in_the_first_hour():
    specs = exhibition_specs()
    assert len(specs) == 20
    ranges = {"image": (8 * 1024, 24 * 1024), "text": (1024, 4 * 1024), "audio": (16 * 1024, 24 * 1024)}
    for spec in specs:
        low, high = ranges[spec.kind]
        assert low <= spec.size <= high, spec
        assert 0 <= spec.at_s < 3600
    assert {s.kind for s in specs} == {"image", "text", "audio"}
    assert {s.venue for s in specs} == set(VENUES)
    assert specs == exhibition_specs()  # the same job for every seed


def test_a_workload_signs_every_work_for_its_venue():
    topology = load_scenario("amsterdam")
    workload = make_workload(exhibition_specs(), 3, topology, "exhibition")
    assert len({w.work_id for w in workload.works}) == 20
    images = [w for w in workload.works if w.kind == "image"]
    assert all(w.bundle.signed.manifest.preview for w in images)  # a thumbnail, as publish makes
    for work in workload.works:
        assert verify_manifest(work.bundle.signed.raw, workload.trust).work_id == work.work_id
    again = make_workload(exhibition_specs(), 3, topology, "exhibition")
    assert [w.work_id for w in again.works] == [w.work_id for w in workload.works]


@pytest.mark.parametrize(("content", "message"), [
    ("not json", "is not JSON"),
    ('{"works": []}', "non-empty list"),
    ('{"works": [{"size": 0}]}', "size must be an integer"),
    ('{"works": [{"size": 100, "colour": "red"}]}', "unknown key 'colour'"),
    ('{"works": [{"size": 100, "at_s": -1}]}', "at_s must be seconds"),
    ('{"works": [{"size": 100, "mime": "png"}]}', "mime must be a MIME type"),
    ('{"works": [{"size": 100, "priority": "high"}]}', "priority must be an integer"),
])
def test_bad_workload_files_say_why_in_one_line(tmp_path, content, message):
    path = tmp_path / "w.json"
    path.write_text(content)
    with pytest.raises(WorkloadError, match=message):
        load_workload_file(path)


def test_an_unknown_venue_is_refused():
    with pytest.raises(WorkloadError, match="not a node of amsterdam"):
        make_workload([WorkSpec(100, venue="rijksmuseum")], 1, load_scenario("amsterdam"))


def test_cli_reports_a_bad_workload_in_one_line(tmp_path):
    path = tmp_path / "w.json"
    path.write_text('{"works": [{"size": 100, "venue": "nowhere"}]}')
    done = subprocess.run([sys.executable, "-m", "node", "sim", "run", "--scenario", "amsterdam", "--workload",
                           str(path)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode != 0
    assert "not a node of amsterdam" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_resolve_specs_choices():
    assert resolve_specs(None, None, 500)[1] == [WorkSpec(500)]
    assert len(resolve_specs(None, 4, 500)[1]) == 4
    assert resolve_specs("exhibition", None, 500)[0] == "exhibition"
    with pytest.raises(WorkloadError, match="either --workload or --works"):
        resolve_specs("exhibition", 3, 500)


def test_four_works_from_four_venues_reach_every_node_with_per_work_figures():
    result = run(RunSpec(scenario="amsterdam", size=3000, works=4, hours=2))
    assert result["complete_fraction"] == 1.0
    assert result["work_count"] == 4
    assert sorted(w["venue"] for w in result["works"]) == sorted(VENUES)
    everywhere = [w["everywhere_s"] for w in result["works"]]
    assert all(t is not None for t in everywhere)
    assert result["last_work_s"] == max(everywhere) == result["completion_s"]
    assert result["first_work_s"] == min(everywhere)
    assert result["catalogue_s"] is not None and result["catalogue_s"] <= result["completion_s"]
    for node in result["nodes"]:
        assert node["works_complete"] == 4
        assert node["catalogue_s"] <= node["completion_s"]
        assert 0 < node["busy_fraction"] < 1
    json.dumps(result["works"])  # plain data


def test_a_work_due_while_its_venue_is_down_is_published_when_it_returns(tmp_path):
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"works": [{"size": 2000, "venue": "waag", "at_s": 30}]}))
    topology = replace(load_scenario("amsterdam"), reboots=(Reboot("waag", 20.0, 60.0),))
    result = run(RunSpec(scenario="amsterdam", workload=str(path), hours=1), topology=topology)
    assert result["complete_fraction"] == 1.0
    waag = next(n for n in result["nodes"] if n["name"] == "waag")
    assert waag["completion_s"] >= 80.0  # back at 80 s, publishes then
    assert result["completion_s"] > 80.0
