"""Sweeps: the grid, the summaries (median and worst), the executors and the command."""

from __future__ import annotations

import csv
import json
from concurrent.futures import ProcessPoolExecutor

import pytest

from node.cli import main
from simulator.runner import RunSpec, run
from simulator.sweep import (
    METRICS,
    Cell,
    RunRecord,
    SweepError,
    SweepGrid,
    executor_for,
    parse_seeds,
    parse_workload,
    run_sweep,
    summarise_figure,
    to_json,
    with_paired_ratios,
)

# Four short runs (two protocols, two seeds, one 2 KiB work on the four venues): about a second each.
SMALL = SweepGrid(scenarios=("amsterdam",), workloads=("2k",), protocols=("gossip", "flood"), seeds=(1, 2))


def test_times_take_the_largest_as_worst_and_completeness_the_smallest():
    assert summarise_figure("completion_s", [30.0, 10.0, 20.0]) == summarise_figure("completion_s", [10, 20, 30])
    times = summarise_figure("completion_s", [30.0, 10.0, 20.0])
    assert (times.median, times.worst, times.missing) == (20.0, 30.0, 0)
    share = summarise_figure("complete_fraction", [1.0, 0.5, 1.0, 0.75])
    assert (share.median, share.worst) == (0.875, 0.5)


def test_a_missing_value_ranks_as_the_worst_outcome():
    one_never = summarise_figure("completion_s", [10.0, None, 20.0])
    assert (one_never.median, one_never.worst, one_never.missing) == (20.0, None, 1)
    half_never = summarise_figure("completion_s", [10.0, None, 20.0, None])
    assert (half_never.median, half_never.worst, half_never.missing) == (None, None, 2)
    unreported = summarise_figure("not_a_figure", [None, None])
    assert (unreported.median, unreported.worst, unreported.missing) == (None, None, 2)


def test_airtime_over_gossip_pairs_runs_of_the_same_cell_and_seed():
    def record(protocol: str, loss: float, seed: int, airtime: float) -> RunRecord:
        return RunRecord(Cell("amsterdam", "2k", protocol, loss, 0.0, "MEDIUM_FAST"), seed, {"airtime_s": airtime})

    records = [record("gossip", 0.0, 1, 10.0), record("gossip", 0.0, 2, 20.0), record("flood", 0.0, 1, 30.0),
               record("flood", 0.0, 2, 50.0), record("flood", 0.3, 1, 70.0)]
    paired = with_paired_ratios(records, ["airtime_over_gossip"])
    assert [r.figures for r in paired] == [{"airtime_over_gossip": v} for v in (1.0, 1.0, 3.0, 2.5, None)]


def test_axis_values_parse_and_bad_ones_fail_in_one_line():
    assert parse_seeds("1-4,9") == (1, 2, 3, 4, 9)
    assert parse_workload("32k") == (None, None, 32768)
    assert parse_workload("20x24k") == (None, 20, 24576)
    assert parse_workload("exhibition")[0] == "exhibition"
    assert parse_workload("works.json")[0] == "works.json"
    with pytest.raises(SweepError, match="--seeds"):
        parse_seeds("1-x")
    for grid, message in [
        (SweepGrid(scenarios=("amsterdam",), protocols=("telepathy",)), "unknown protocol 'telepathy'"),
        (SweepGrid(scenarios=("atlantis",)), "atlantis"),
        (SweepGrid(scenarios=("amsterdam",), workloads=("missing.json",)), "does not exist"),
        (SweepGrid(scenarios=("amsterdam",), losses=(1.5,)), "--loss"),
        (SweepGrid(scenarios=("amsterdam",), seeds=(1, 1)), "twice"),
    ]:
        with pytest.raises(SweepError, match=message) as caught:
            grid.check()
        assert "\n" not in str(caught.value)


def test_a_sweep_records_what_a_single_run_reports():
    result = run_sweep(SMALL, executor=None)
    assert [(r.cell.protocol, r.seed) for r in result.records] == [("gossip", 1), ("gossip", 2), ("flood", 1),
                                                                   ("flood", 2)]
    alone = run(RunSpec(scenario="amsterdam", size=2048, protocol="flood", seed=2))
    flood_2 = result.records[3].figures
    assert flood_2["airtime_s"] == alone["airtime_s"]
    assert flood_2["completion_s"] == alone["completion_s"]
    gossip_2 = result.records[1].figures["airtime_s"]
    assert gossip_2 is not None and flood_2["airtime_over_gossip"] == round(alone["airtime_s"] / gossip_2, 4)
    assert [c.cell.protocol for c in result.cells] == ["gossip", "flood"]
    gossip = result.cells[0].figures["airtime_s"]
    airtimes = sorted(float(r.figures["airtime_s"] or 0) for r in result.records[:2])
    assert gossip.worst == airtimes[1] and gossip.median == pytest.approx(sum(airtimes) / 2)
    assert set(result.cells[0].figures) == set(METRICS)


def test_serial_pool_and_dask_cluster_give_identical_sweeps():
    distributed = pytest.importorskip("distributed")
    serial = to_json(run_sweep(SMALL))
    with executor_for(workers=2) as pool:
        assert isinstance(pool, ProcessPoolExecutor)
        pooled = to_json(run_sweep(SMALL, executor=pool))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            executor_for(dask=cluster.scheduler_address) as on_cluster:  # what --dask ADDRESS does
        clustered = to_json(run_sweep(SMALL, executor=on_cluster))
    assert pooled == serial
    assert clustered == serial
    assert len(serial["runs"]) == 4  # type: ignore[arg-type]


def test_sim_sweep_writes_csv_and_json(tmp_path, capsys):
    args = ["sim", "sweep", "--scenario", "amsterdam", "--workload", "2k", "--protocol", "gossip", "--seeds", "1-2",
            "--serial", "--metrics", "completion_s,airtime_s,figure_from_a_newer_runner"]
    assert main([*args, "--out", str(tmp_path / "s.csv")]) == 0
    printed = capsys.readouterr().out
    assert "amsterdam · 2k · gossip" in printed and "not reported by any run: figure_from_a_newer_runner" in printed
    with (tmp_path / "s.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["seed"] for r in rows] == ["1", "2"]
    assert all(float(r["airtime_s"]) > 0 and r["figure_from_a_newer_runner"] == "" for r in rows)
    assert main([*args, "--out", str(tmp_path / "s.json")]) == 0
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["metrics"] == ["completion_s", "airtime_s", "figure_from_a_newer_runner"]
    assert [float(r["airtime_s"]) for r in rows] == [r["airtime_s"] for r in doc["runs"]]
    assert doc["cells"][0]["figures"]["airtime_s"]["worst"] == max(r["airtime_s"] for r in doc["runs"])


def test_sim_sweep_errors_are_one_line(capsys):
    assert main(["sim", "sweep", "--scenario", "amsterdam", "--protocol", "gossip,telepathy", "--serial"]) == 1
    err = capsys.readouterr().err.strip()
    assert "unknown protocol 'telepathy'" in err and "\n" not in err
    assert main(["sim", "sweep", "--scenario", "amsterdam", "--serial", "--out", "x.txt"]) == 1
    assert "--out must end in .csv or .json" in capsys.readouterr().err
