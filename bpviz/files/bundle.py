"""The data files of a snapshot export bundle: ``state.npz``, ``metrics.csv``, ``snapshot.json``.

No Qt: the headless trainer and the window both write these; the pictures (PNG, SVG) are
added by ``bpviz.ui.export``. Array names in ``state.npz`` follow the paper with the layer
number appended (l = 1 … L): ``W1`` is W¹ ``(n₁, n₀)``, ``delta2`` is δ² ``(m, n₂)``;
``snapshot.json`` says what each holds for the network exported (``meaning``).
"""

from __future__ import annotations

import csv
import json
import platform
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bpviz.session.snapshot import EpochMetrics, EpochsView, HistoryView, SessionConfig, Snapshot

STATE_FILE = "state.npz"
METRICS_FILE = "metrics.csv"
SNAPSHOT_FILE = "snapshot.json"
DATA_FILES = (STATE_FILE, METRICS_FILE, SNAPSHOT_FILE)
METRICS_COLUMNS = ("series", "step", "epoch", "value")

# What each array of ``state.npz`` holds, in the paper's notation: ``{l}``, ``{p}`` (l − 1)
# and ``{L}`` are filled in with superscripts, ``{nl}``/``{np}`` with subscripted sizes.
MEANINGS = {
    "x": "input x = a⁰, one row per example, (m, n₀)",
    "labels": "class of each example, (m,)",
    "y": "one-hot target y, one row per example, (m, n{nL})",
    "W": "W{l} after the phase shown, ({nl}, {np})",
    "b": "b{l} after the phase shown, ({nl},)",
    "W_before": "W{l} the mini-batch started from, ({nl}, {np})",
    "b_before": "b{l} the mini-batch started from, ({nl},)",
    "a0": "a⁰ = x, the input itself (no activation is applied to it), (m, n₀)",
    "z": "z{l} = W{l} a{p} + b{l}, per example, (m, {nl})",
    "a": "a{l} = {sigma}(z{l}), per example, (m, {nl})",
    "a_softmax": "a{l} = softmax(z{l}): each row is positive and sums to 1, (m, {nl})",
    "dC_da": "∂Cₓ/∂a{l} = (W{n})ᵀ δ{n}, per example x (not averaged over the batch), (m, {nl})",
    "dC_da_quadratic": "∂Cₓ/∂a{l} = a{l} − y, per example x (not averaged over the batch), "
    "(m, {nl})",
    "dC_da_cross_entropy": "∂Cₓ/∂a{l} = −y / a{l}, per example x (not averaged over the batch), "
    "(m, {nl})",
    "sigma_prime": "σ′(z{l}) for σ = {sigma}, per example, (m, {nl})",
    "delta": "δ{l} = ∂Cₓ/∂z{l} = ∂Cₓ/∂a{l} ⊙ σ′(z{l}), per example, (m, {nl})",
    "delta_softmax": "δ{l} = ∂Cₓ/∂z{l} = a{l} − y (softmax with cross-entropy: no σ′ of the "
    "output layer exists or is stored), per example, (m, {nl})",
    "grad_W": "∂C/∂W{l} = (1/m) Σₓ δ{l}ₓ (a{p}ₓ)ᵀ, the mean over the mini-batch, ({nl}, {np})",
    "grad_b": "∂C/∂b{l} = (1/m) Σₓ δ{l}ₓ, the mean over the mini-batch, ({nl},)",
    "per_class_accuracy": "held-out accuracy of each class at the last epoch end, (n_classes,)",
    "confusion": "held-out confusion matrix (rows true, columns predicted), int64",
}
_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def snapshot_arrays(snapshot: Snapshot) -> dict[str, np.ndarray]:
    """Every array of ``snapshot`` by its ``state.npz`` name (entries not computed yet left out).

    Per-layer names carry the paper's l: ``W1``, ``b1``, ``z1``, ``a0`` (= x) … ``aL``,
    ``dC_da1``, ``sigma_prime1``, ``delta1``, ``grad_W1``, ``grad_b1``, ``W1_before``.
    """
    out: dict[str, np.ndarray] = {}
    for name in ("x", "labels", "y"):
        value = getattr(snapshot, name)
        if value is not None:
            out[name] = value
    per_layer = {
        "W": snapshot.weights,
        "b": snapshot.biases,
        "z": snapshot.z,
        "dC_da": snapshot.dC_da,
        "sigma_prime": snapshot.sigma_prime,
        "delta": snapshot.delta,
        "grad_W": snapshot.grad_w,
        "grad_b": snapshot.grad_b,
    }
    for prefix, values in per_layer.items():
        for l, value in enumerate(values, start=1):
            if value is not None:
                out[f"{prefix}{l}"] = value
    for l, value in enumerate(snapshot.a):  # a[0] is x
        if value is not None:
            out[f"a{l}"] = value
    for prefix, values in (("W", snapshot.weights_before), ("b", snapshot.biases_before)):
        for l, value in enumerate(values, start=1):
            out[f"{prefix}{l}_before"] = value
    if snapshot.last_eval is not None:
        out["per_class_accuracy"] = snapshot.last_eval.per_class_accuracy
        out["confusion"] = snapshot.last_eval.confusion
    return {name: np.asarray(value) for name, value in out.items()}


def meaning(name: str, config: SessionConfig | None = None) -> str:
    """What the ``state.npz`` array ``name`` holds, for the network ``config`` describes:
    ``meaning("delta2", softmax_config)`` → "δ² = ∂Cₓ/∂z² = a² − y (…)"."""
    L = config.n_layers if config is not None else None
    if name in ("x", "labels", "y", "per_class_accuracy", "confusion", "a0"):
        return MEANINGS[name].replace("{nL}", "ₗ" if L is None else str(L).translate(_SUB))
    before = name.endswith("_before")
    base = name.removesuffix("_before")
    prefix = base.rstrip("0123456789")
    if prefix not in MEANINGS or prefix == base:
        return name
    l = int(base[len(prefix) :])
    output = L is not None and l == L
    key = prefix + ("_before" if before else "")
    if config is not None and prefix in ("a", "delta") and output and config.output == "softmax":
        key = f"{prefix}_softmax"
    if config is not None and prefix == "dC_da" and output:
        key = f"dC_da_{config.cost}"
    sigma = "σ" if config is None else (config.output if output else config.hidden)
    text = MEANINGS.get(key, MEANINGS[prefix])
    return (
        text.replace("{l}", str(l).translate(_SUP))
        .replace("{p}", str(l - 1).translate(_SUP))
        .replace("{n}", str(l + 1).translate(_SUP))
        .replace("{nl}", f"n{str(l).translate(_SUB)}")
        .replace("{np}", f"n{str(l - 1).translate(_SUB)}")
        .replace("{sigma}", sigma)
    )


def write_state_npz(path: Path, snapshot: Snapshot) -> dict[str, np.ndarray]:
    """Write the snapshot's arrays to ``path`` (plain ``.npz``, no pickled objects)."""
    arrays = snapshot_arrays(snapshot)
    with open(path, "wb") as f:
        np.savez_compressed(f, allow_pickle=False, **arrays)
    return arrays


def _epoch_of_steps(steps: np.ndarray, epochs: EpochsView) -> np.ndarray:
    """0-based epoch of each step, from the steps at which the epochs ended (within a
    bucket of several epochs, counted on from its first epoch's end at equal spacing)."""
    ends = np.asarray(epochs.step, dtype=np.int64)
    k = np.searchsorted(ends, steps, side="left")  # buckets ended before each step
    if epochs.width == 1 or len(ends) < 2:
        return k
    per_epoch = max(1, int(ends[1] - ends[0]) // epochs.width)  # steps an epoch
    before = np.clip(k - 1, 0, None)  # the bucket whose first epoch ended before the step
    later = (np.asarray(steps) - ends[before] - 1) // per_epoch + 1
    return np.where(k == 0, 0, np.minimum(epochs.epoch[before] + later, epochs.count))


EPOCH_SERIES = ("train_loss", "test_loss", "test_accuracy", "seconds")


def metrics_rows(
    history: HistoryView | None, loss_per_step: np.ndarray | None = None
) -> list[tuple[str, int, int | str, float]]:
    """The rows of ``metrics.csv``: ``(series, step, epoch, value)``.

    Series: ``loss`` for every mini-batch when ``loss_per_step`` (``(steps,)``, step s at
    index s − 1) is given, otherwise the plotted buckets as ``loss_min``/``loss_max``/
    ``loss_mean`` at each bucket's first step; per epoch ``train_loss``, ``test_loss``,
    ``test_accuracy``, ``seconds`` at the epoch's last step (once the epochs are in
    buckets of several, each as ``…_min``/``…_max``/``…_mean`` at the end of a bucket's
    first epoch); and ``eta`` at each step from which a new η applies.
    """
    if history is None:
        return []
    rows: list[tuple[str, int, int | str, float]] = []
    epochs = history.epochs
    if loss_per_step is not None:
        steps = np.arange(1, len(loss_per_step) + 1, dtype=np.int64)
        of_step = _epoch_of_steps(steps, epochs)
        rows += [
            ("loss", int(s), int(e), float(v))
            for s, e, v in zip(steps, of_step, loss_per_step, strict=True)
        ]
    else:
        of_step = _epoch_of_steps(history.loss_step, epochs)
        for series in ("loss_min", "loss_max", "loss_mean"):
            values = getattr(history, series)
            rows += [
                (series, int(s), int(e), float(v))
                for s, e, v in zip(history.loss_step, of_step, values, strict=True)
            ]
    stats = ("mean",) if epochs.width == 1 else ("min", "max", "mean")
    for k, (step, epoch) in enumerate(zip(epochs.step, epochs.epoch, strict=True)):
        for name in EPOCH_SERIES:
            for stat in stats:
                label = name if epochs.width == 1 else f"{name}_{stat}"
                value = getattr(getattr(epochs, name), stat)[k]
                rows.append((label, int(step), int(epoch), float(value)))
    for step, eta in history.eta_changes:
        epoch = int(_epoch_of_steps(np.array([step]), epochs)[0])
        rows.append(("eta", int(step), epoch, float(eta)))
    return rows


def write_metrics_csv(
    path: Path, history: HistoryView | None, loss_per_step: np.ndarray | None = None
) -> int:
    """Write ``metrics.csv`` (long format: one value a row, see ``metrics_rows``); rows written."""
    rows = metrics_rows(history, loss_per_step)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(METRICS_COLUMNS)
        for series, step, epoch, value in rows:
            writer.writerow((series, step, epoch, repr(value)))
    return len(rows)


def versions() -> dict[str, str]:
    """Versions of bpviz, Python, NumPy and the platform (the Qt side adds its own)."""
    from bpviz import __version__

    return {
        "bpviz": __version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "platform": platform.platform(),
    }


def _epoch_json(m: EpochMetrics | None) -> dict | None:
    if m is None:
        return None
    return {
        "epoch": m.epoch,
        "step": m.step,
        "train_loss": m.train_loss,
        "test_loss": m.test_loss,
        "test_accuracy": m.test_accuracy,
        "seconds": m.seconds,
    }


def snapshot_metadata(
    snapshot: Snapshot,
    arrays: dict[str, np.ndarray],
    *,
    data_source: str = "",
    extra_versions: dict[str, str] | None = None,
    files: list[str] | None = None,
    loss_per_step: bool = False,
    notes: list[str] | None = None,
) -> dict:
    """The content of ``snapshot.json``: configuration, seed, step, epoch, phase, η, data
    source, versions, and a table of the arrays in ``state.npz``."""
    phase, config = snapshot.phase, snapshot.config
    return {
        "format": "bpviz-snapshot",
        "version": 1,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": asdict(snapshot.config),
        "seed": snapshot.config.seed,
        "step": snapshot.step,
        "epoch": snapshot.epoch,
        "batch_in_epoch": snapshot.batch_in_epoch,
        "batches_per_epoch": snapshot.batches_per_epoch,
        "phase": None
        if phase is None
        else {
            "label": phase.label,
            "kind": phase.kind.value,
            "layer": phase.layer,
            "index": snapshot.phase_index,
        },
        "eta": snapshot.eta,
        "loss": snapshot.loss,
        "last_eval": _epoch_json(snapshot.last_eval),
        "message": snapshot.message,
        "data_source": data_source,
        "versions": {**versions(), **(extra_versions or {})},
        "metrics_loss": "per step" if loss_per_step else "decimated buckets (min/max/mean)",
        "metrics_epochs": _epochs_note(snapshot.history),
        "arrays": {
            name: {
                "shape": list(a.shape),
                "dtype": str(a.dtype),
                "meaning": meaning(name, config),
            }
            for name, a in arrays.items()
        },
        "files": sorted(files or DATA_FILES),
        "notes": list(notes or []),
    }


def _epochs_note(history: HistoryView | None) -> str:
    width = 1 if history is None else history.epochs.width
    return "per epoch" if width == 1 else f"buckets of {width} epochs (min/max/mean)"


def write_bundle_data(
    folder: Path,
    snapshot: Snapshot,
    *,
    data_source: str = "",
    loss_per_step: np.ndarray | None = None,
    extra_versions: dict[str, str] | None = None,
    extra_files: list[str] | None = None,
    notes: list[str] | None = None,
) -> list[Path]:
    """Write ``state.npz``, ``metrics.csv`` and ``snapshot.json`` into ``folder`` (created).

    ``loss_per_step`` is the full per-mini-batch loss (the session's history) when the
    caller has it; otherwise ``metrics.csv`` has the snapshot's decimated loss buckets.
    ``extra_files`` names the pictures the caller writes beside them and ``notes`` says
    what could not be written (both listed in the JSON).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = write_state_npz(folder / STATE_FILE, snapshot)
    write_metrics_csv(folder / METRICS_FILE, snapshot.history, loss_per_step)
    meta = snapshot_metadata(
        snapshot,
        arrays,
        data_source=data_source,
        extra_versions=extra_versions,
        files=[*DATA_FILES, *(extra_files or [])],
        loss_per_step=loss_per_step is not None,
        notes=notes,
    )
    text = json.dumps(meta, indent=2, ensure_ascii=False, allow_nan=True)
    (folder / SNAPSHOT_FILE).write_text(text + "\n", encoding="utf-8")
    return [folder / name for name in DATA_FILES]


def new_bundle_folder(out_dir: Path, snapshot: Snapshot, now: datetime | None = None) -> Path:
    """Create and return a fresh timestamped folder, e.g.
    ``out_dir/bpviz-20261129-094500-step000120``; never reuses an existing one."""
    now = now or datetime.now()
    base = f"bpviz-{now:%Y%m%d-%H%M%S}-step{snapshot.step:06d}"
    if snapshot.phase is not None and snapshot.phase_index >= 0:
        base += f"-phase{snapshot.phase_index:02d}"
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for k in range(1000):
        folder = out_dir / (base if k == 0 else f"{base}-{k + 1}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise FileExistsError(f"could not create a new bundle folder under {out_dir}")
