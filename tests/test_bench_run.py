"""benchmarks/run.py: which way each figure is better, and the verdict it prints."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import run


def test_times_sizes_and_time_ratios_are_better_lower_rates_higher():
    lower = [
        "gui_startup_s", "pause_latency_ms", "engine_gather_us", "engine_epoch_seconds",
        "gui_cpu_ms_per_frame", "views_window_cpu_ms_wide", "gui_transfer_ms_wide_pickled",
        "history_mb_per_million_steps", "engine_vs_floor", "engine_bound_vs_floor",
    ]  # fmt: skip
    higher = [
        "gui_fps", "views_fps_wide_phases", "engine_steps_per_s", "gui_steps_per_s_headless",
        "session_steps_per_s", "engine_vs_loop", "gui_throughput_ratio", "data_cache_speedup",
    ]  # fmt: skip
    assert [k for k in lower if not run.lower_is_better(k)] == []
    assert [k for k in higher if run.lower_is_better(k)] == []


def test_the_table_calls_a_slower_time_and_a_lower_rate_worse():
    here = [{"gui_startup_s": 2.0, "gui_fps": 60.0}, {"gui_startup_s": 2.2, "gui_fps": 50.0}]
    before = [{"gui_startup_s": 1.0, "gui_fps": 30.0}, {"gui_startup_s": 1.1, "gui_fps": 28.0}]
    figures = run.compare(here, before)
    assert figures["gui_startup_s"] == 2.0 and figures["gui_startup_s@before"] == 1.0
    assert figures["gui_fps@better"] == 2.0 and figures["gui_startup_s@better"] == 0.5
    rows = {row.split("|")[1].strip(" `"): row for row in run.table(figures).splitlines()[2:]}
    assert "worse (0.50×)" in rows["gui_startup_s"]
    assert "better (2.00×)" in rows["gui_fps"]


def test_a_saved_run_prints_its_table_without_measuring(tmp_path, capsys):
    saved = tmp_path / "run.json"
    figures = run.compare([{"gui_fps": 20.0}], [{"gui_fps": 30.0}])
    saved.write_text(json.dumps(figures))
    assert run.main(["--from", str(saved), "--table"]) == 0
    out, err = capsys.readouterr()
    assert "| `gui_fps` | 20 | 30 | 0.667 |" in out and "worse (0.67×)" in out
    assert "worse than before: gui_fps" in err


def test_a_figure_worse_in_every_round_pair_is_told_apart_from_one_worse_by_chance():
    # gui_fps: best of rounds lower here (50 < 55), but one pair better (50 > 45);
    # gui_startup_s: slower in both pairs
    here = [{"gui_fps": 50.0, "gui_startup_s": 1.2}, {"gui_fps": 40.0, "gui_startup_s": 1.3}]
    before = [{"gui_fps": 45.0, "gui_startup_s": 1.0}, {"gui_fps": 55.0, "gui_startup_s": 1.1}]
    by_best, every = run.worse(run.compare(here, before))
    assert sorted(by_best) == ["gui_fps", "gui_startup_s"]
    assert every == ["gui_startup_s"]
