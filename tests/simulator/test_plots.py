"""The figures: written, not blank, the right ones, titled with what was run; labels that avoid each other."""

from __future__ import annotations

import itertools

import matplotlib.image
import pytest

from simulator.plots import map_figure, works_figure, write_plots
from simulator.runner import RunSpec, run


@pytest.fixture(scope="module")
def three_works() -> dict:
    """Gossip on the four venues with three small works: every node completes in about a minute."""
    result = run(RunSpec(scenario="amsterdam", works=3, size=1024, seed=2, loss=0.1))
    assert result["complete_fraction"] == 1.0
    return result


@pytest.fixture(scope="module")
def wide_unfinished() -> dict:
    """amsterdam-wide stopped after 20 simulated seconds: 18 nodes, nobody holds both works yet."""
    result = run(RunSpec(scenario="amsterdam-wide", works=2, size=4096, hours=20 / 3600))
    assert result["complete_fraction"] == 0.0
    return result


def test_write_plots_writes_each_figure_once_and_none_is_blank(tmp_path, three_works):
    flood = run(RunSpec(scenario="amsterdam", works=3, size=1024, seed=2, loss=0.1, protocol="flood", hours=0.25))
    paths = write_plots([three_works, flood], tmp_path)
    assert sorted(p.name for p in paths) == sorted(p.name for p in tmp_path.iterdir()) == [
        "airtime.png", "completion.png", "map-flood.png", "map-gossip.png", "works-flood.png", "works-gossip.png"]
    for path in paths:
        pixels = matplotlib.image.imread(path)
        assert pixels.shape[0] > 250 and pixels.shape[1] > 500
        assert pixels[..., :3].std() > 0.05, f"{path.name} looks blank"


def test_one_work_has_no_per_work_chart(tmp_path):
    one = run(RunSpec(scenario="amsterdam", size=1024))
    assert sorted(p.name for p in write_plots([one], tmp_path)) == ["airtime.png", "completion.png",
                                                                    "map-gossip.png"]


def test_titles_say_seed_loss_and_background(three_works):
    for fig in (map_figure(three_works, three_works["_usable"]), works_figure(three_works)):
        title = fig.axes[0].get_title()
        assert "seed 2" in title and "loss 0.1" in title and "background 0" in title and "amsterdam" in title


def test_the_map_has_a_colour_bar_only_when_some_node_completed(three_works, wide_unfinished):
    assert len(map_figure(three_works, None).axes) == 2
    assert len(map_figure(wide_unfinished, wide_unfinished["_usable"]).axes) == 1


def test_the_map_has_equal_km_axes_and_labels_that_do_not_overlap(wide_unfinished):
    fig = map_figure(wide_unfinished, wide_unfinished["_usable"])
    ax = fig.axes[0]
    assert ax.get_aspect() == 1.0
    assert ax.get_xlabel().startswith("km east") and ax.get_ylabel().startswith("km north")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    assert sorted(t.get_text() for t in ax.texts) == sorted(n["name"] for n in wide_unfinished["nodes"])
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)
    frame = ax.get_window_extent(renderer)
    assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1 for b in boxes)


def test_the_works_chart_has_a_row_per_work_and_marks_unfinished_ones(three_works, wide_unfinished):
    rows = works_figure(three_works).axes[0].get_yticklabels()
    assert [t.get_text().split(".")[0] for t in rows] == ["1", "2", "3"]
    notes = [t.get_text() for t in works_figure(wide_unfinished).axes[0].texts]
    assert notes == [f"1/{wide_unfinished['node_count']} nodes"] * 2
