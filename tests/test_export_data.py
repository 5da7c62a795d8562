"""The data files of an export bundle (no Qt): state.npz, metrics.csv, snapshot.json."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import datetime

import numpy as np
import pytest
from snapshots import fake_history, make_snapshots, snapshot_at

from bpviz.files.bundle import (
    DATA_FILES,
    METRICS_COLUMNS,
    metrics_rows,
    new_bundle_folder,
    snapshot_arrays,
    write_bundle_data,
)
from bpviz.session.history import History
from bpviz.session.snapshot import EpochMetrics, EpochsView, HistoryView, PhaseKind


def _read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_bundle_has_every_data_file_and_the_arrays_equal_the_snapshot(tmp_path):
    snap = snapshot_at(PhaseKind.DELTA, 1, sizes=(784, 16, 12, 10), batch_size=7)
    written = write_bundle_data(tmp_path / "b", snap, data_source="embedded sample")
    assert sorted(p.name for p in written) == sorted(DATA_FILES)
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == sorted(DATA_FILES)

    with np.load(tmp_path / "b" / "state.npz", allow_pickle=False) as npz:
        stored = {name: npz[name] for name in npz.files}
    np.testing.assert_array_equal(stored["x"], snap.x)
    np.testing.assert_array_equal(stored["labels"], snap.labels)
    np.testing.assert_array_equal(stored["y"], snap.y)
    for l in range(1, 4):
        np.testing.assert_array_equal(stored[f"W{l}"], snap.weights[l - 1])
        np.testing.assert_array_equal(stored[f"b{l}"], snap.biases[l - 1])
        np.testing.assert_array_equal(stored[f"W{l}_before"], snap.weights_before[l - 1])
        np.testing.assert_array_equal(stored[f"z{l}"], snap.z[l - 1])
        np.testing.assert_array_equal(stored[f"a{l}"], snap.a[l])
        np.testing.assert_array_equal(stored[f"delta{l}"], snap.delta[l - 1])
        np.testing.assert_array_equal(stored[f"dC_da{l}"], snap.dC_da[l - 1])
        np.testing.assert_array_equal(stored[f"sigma_prime{l}"], snap.sigma_prime[l - 1])
    np.testing.assert_array_equal(stored["a0"], snap.x)
    # δ^1 is the phase shown: no gradient has been computed yet, and none is invented.
    assert not any(name.startswith("grad_") for name in stored)
    assert stored["W1"].shape == (16, 784) and stored["delta1"].shape == (7, 16)


def test_snapshot_json_describes_the_run_and_every_array(tmp_path):
    snap = snapshot_at(PhaseKind.GRADIENT, 2, seed=5, batch_size=4)
    write_bundle_data(tmp_path, snap, data_source="full MNIST (/data)", extra_versions={"qt": "x"})
    meta = json.loads((tmp_path / "snapshot.json").read_text(encoding="utf-8"))
    assert meta["config"]["sizes"] == [784, 30, 10]
    assert meta["seed"] == 5 and meta["config"]["batch_size"] == 4
    assert meta["step"] == snap.step and meta["epoch"] == snap.epoch
    assert meta["phase"] == {"label": "∂C/∂W^2", "kind": "gradient", "layer": 2, "index": 5}
    assert meta["eta"] == snap.eta and meta["loss"] == pytest.approx(snap.loss)
    assert meta["data_source"] == "full MNIST (/data)"
    assert meta["versions"]["qt"] == "x" and meta["versions"]["numpy"] == np.__version__
    with np.load(tmp_path / "state.npz", allow_pickle=False) as npz:
        assert sorted(meta["arrays"]) == sorted(npz.files)
        for name in npz.files:
            assert meta["arrays"][name]["shape"] == list(npz[name].shape)
    assert meta["arrays"]["delta2"]["meaning"].startswith("δ² = ∂Cₓ/∂z²")
    assert meta["arrays"]["grad_W2"]["meaning"].startswith("∂C/∂W² = (1/m)")


def test_metrics_csv_has_loss_per_step_epochs_and_eta_changes(tmp_path):
    snap = make_snapshots()[-1]
    loss = np.linspace(1.0, 0.1, 120).astype(np.float32)
    metrics = EpochMetrics(0, 60, 0.5, 0.4, 0.875, np.ones(10), np.eye(10, dtype=np.int64), 2.5)
    history = HistoryView(
        loss_step=np.arange(1, 121),
        loss_min=loss,
        loss_max=loss,
        loss_mean=loss,
        epochs=EpochsView.of((metrics,)),
        eta_changes=((1, 3.0), (80, 0.5)),
    )
    snap = replace(snap, history=history, last_eval=metrics)
    write_bundle_data(tmp_path, snap, loss_per_step=loss)
    rows = _read_csv(tmp_path / "metrics.csv")
    assert tuple(rows[0]) == METRICS_COLUMNS
    by_series: dict[str, list[list[str]]] = {}
    for row in rows[1:]:
        by_series.setdefault(row[0], []).append(row)
    assert [int(r[1]) for r in by_series["loss"]] == list(range(1, 121))
    assert [float(r[3]) for r in by_series["loss"]] == [float(v) for v in loss]
    # steps 1..60 are epoch 0, 61..120 epoch 1
    assert {int(r[2]) for r in by_series["loss"][:60]} == {0}
    assert {int(r[2]) for r in by_series["loss"][60:]} == {1}
    assert by_series["test_accuracy"] == [["test_accuracy", "60", "0", "0.875"]]
    assert [(int(r[1]), float(r[3])) for r in by_series["eta"]] == [(1, 3.0), (80, 0.5)]
    with np.load(tmp_path / "state.npz", allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["confusion"], metrics.confusion)


def test_metrics_fall_back_to_the_decimated_buckets_without_the_full_loss():
    snap = replace(make_snapshots()[-1], history=fake_history(400))
    rows = metrics_rows(snap.history)
    series = {r[0] for r in rows}
    assert {"loss_min", "loss_max", "loss_mean", "eta"} <= series
    maxima = [r[3] for r in rows if r[0] == "loss_max"]
    assert max(maxima) == pytest.approx(float(snap.history.loss_max.max()))
    assert metrics_rows(None) == []


def test_reset_snapshot_exports_parameters_only(tmp_path):
    snap = make_snapshots(sizes=(784, 8, 10))[0]
    arrays = snapshot_arrays(snap)
    params = {f"{p}{l}{s}" for p in "Wb" for l in (1, 2) for s in ("", "_before")}
    assert set(arrays) - {"x", "labels", "y", "a0"} == params  # a0 is x
    write_bundle_data(tmp_path, snap)
    meta = json.loads((tmp_path / "snapshot.json").read_text(encoding="utf-8"))
    assert meta["phase"] is None


def test_bundle_folders_are_timestamped_and_never_reused(tmp_path):
    snap = snapshot_at(PhaseKind.UPDATE)
    when = datetime(2026, 11, 29, 9, 45, 0)
    first = new_bundle_folder(tmp_path, snap, now=when)
    second = new_bundle_folder(tmp_path, snap, now=when)
    assert first.name == "bpviz-20261129-094500-step000001-phase07"
    assert second.name == first.name + "-2"
    assert first.is_dir() and second.is_dir()


def test_metrics_csv_of_epochs_in_buckets_maps_every_step_to_its_epoch():
    history = History(3.0, max_points=8)
    loss = np.linspace(1.0, 0.1, 400).astype(np.float32)
    history.loss.extend(loss)
    for e in range(40):  # 10 mini-batches an epoch; buckets of 8 epochs in the view
        accuracy = 0.5 + e / 100
        confusion = np.eye(10, dtype=np.int64)
        history.record_epoch(
            EpochMetrics(e, 10 * (e + 1), 0.3, 0.2, accuracy, np.ones(10), confusion, 1.0)
        )
    view = history.view()
    assert view.epochs.width == 8
    rows = metrics_rows(view, loss)
    steps = [(s, e) for name, s, e, _ in rows if name == "loss"]
    assert steps == [(s, (s - 1) // 10) for s in range(1, 401)]
    means = [(s, e, v) for name, s, e, v in rows if name == "test_accuracy_mean"]
    assert [(s, e) for s, e, _ in means] == [(10 * (e + 1), e) for e in range(0, 40, 8)]
    expected = [0.5 + (e + 3.5) / 100 for e in range(0, 40, 8)]  # each bucket's mean
    np.testing.assert_allclose([v for *_, v in means], expected)
    lows = [v for name, _, _, v in rows if name == "test_accuracy_min"]
    assert lows == [0.5 + e / 100 for e in range(0, 40, 8)]
