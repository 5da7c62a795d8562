"""JSON + array codecs of what a session file holds: configuration, RNG state, history.

Every ``decode_*`` checks what it reads (types, ranges, shapes against the configuration)
and raises ``CheckpointError`` naming the problem; it builds new objects only.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, fields
from typing import Any

import numpy as np

from bpviz.engine.kernels import n_parameters
from bpviz.files.container import CheckpointError
from bpviz.session.history import History, Watch
from bpviz.session.snapshot import EpochMetrics, SessionConfig

HIDDEN = ("sigmoid", "tanh", "relu", "leaky_relu")
OUTPUT = ("sigmoid", "softmax")
COST = ("quadratic", "cross_entropy")
INIT = ("scaled", "normal")
MAX_PARAMETERS = 1 << 28  # 1 GB of float32: a file asking for more is not one of ours
MAX_LAYERS = 64


def dataset_fingerprint(dataset) -> str:
    """A short hash of a data set's shapes, labels and pixels: a resumed session must
    train on exactly the data it was saved with."""
    digest = hashlib.sha256()
    for array in (
        dataset.train_images,
        dataset.train_labels,
        dataset.test_images,
        dataset.test_labels,
    ):
        digest.update(repr((array.shape, str(array.dtype))).encode())
        digest.update(np.ascontiguousarray(array).data)
    return digest.hexdigest()[:32]


def _require(ok: bool, what: str) -> None:
    if not ok:
        raise CheckpointError(f"the session file is damaged: {what}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def encode_config(config: SessionConfig) -> dict[str, Any]:
    """The configuration as JSON-able values."""
    return {**asdict(config), "sizes": list(config.sizes)}


def decode_config(value: Any) -> SessionConfig:
    """A checked ``SessionConfig`` from its JSON form."""
    _require(isinstance(value, dict), "the configuration is missing")
    names = {f.name for f in fields(SessionConfig)}
    _require(set(value) == names, f"the configuration has fields {sorted(value)}")
    sizes = value["sizes"]
    _require(
        isinstance(sizes, list) and len(sizes) >= 2 and all(_is_int(n) and n >= 1 for n in sizes),
        f"bad layer sizes {sizes!r}",
    )
    _require(
        len(sizes) <= MAX_LAYERS and n_parameters(sizes) <= MAX_PARAMETERS,
        f"implausibly large network {sizes!r}",
    )
    _require(value["hidden"] in HIDDEN, f"unknown hidden activation {value['hidden']!r}")
    _require(value["output"] in OUTPUT, f"unknown output activation {value['output']!r}")
    _require(value["cost"] in COST, f"unknown cost {value['cost']!r}")
    _require(value["init"] in INIT, f"unknown initialisation {value['init']!r}")
    _require(_is_int(value["seed"]) and value["seed"] >= 0, "bad seed")
    _require(_is_int(value["batch_size"]) and value["batch_size"] >= 1, "bad batch size")
    _require(_is_eta(value["eta"]), f"bad η {value['eta']!r}")
    return SessionConfig(**{**value, "sizes": tuple(sizes)})


def _is_eta(value: Any) -> bool:
    return _is_number(value) and math.isfinite(value) and value > 0


def encode_rng(rng: np.random.Generator) -> dict[str, Any]:
    """The generator's complete state (bit generator name and integers) as JSON."""
    return rng.bit_generator.state


def decode_rng(state: Any) -> np.random.Generator:
    """A generator in exactly the saved state."""
    _require(isinstance(state, dict), "the random generator state is missing")
    name = state.get("bit_generator")
    _require(name in ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937"), f"bad RNG {name!r}")
    bit_generator = getattr(np.random, name)()
    try:
        bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as e:
        raise CheckpointError(f"the session file is damaged: bad RNG state ({e})") from e
    return np.random.Generator(bit_generator)


def encode_history(history: History) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """History → (JSON part, arrays): the loss of every step, epoch metrics, η changes and
    the watched weights' series."""
    epochs = history.epochs
    meta = {
        "max_points": history.loss.max_points,
        "loss_first_step": history.loss.first_step,
        "epochs": [
            {
                k: getattr(m, k)
                for k in ("epoch", "step", "train_loss", "test_loss", "test_accuracy", "seconds")
            }
            for m in epochs
        ],
        "eta_changes": [[s, eta] for s, eta in history.eta_changes],
        "watches": [[w.l, w.i, w.j, w.w.first_step] for w in history.watches.values()],
    }
    arrays = {"history_loss": np.array(history.loss.values)}
    if epochs:
        arrays["history_per_class_accuracy"] = np.stack([m.per_class_accuracy for m in epochs])
        arrays["history_confusion"] = np.stack([m.confusion for m in epochs])
    for k, w in enumerate(history.watches.values()):
        arrays[f"watch{k}_w"] = np.array(w.w.values)
        arrays[f"watch{k}_grad"] = np.array(w.grad.values)
    return meta, arrays


def _fill(series, values: np.ndarray) -> None:
    for value in values.tolist():
        series.append(value)


def decode_history(meta: Any, arrays: dict[str, np.ndarray], config: SessionConfig) -> History:
    """A new ``History`` equal to the saved one, every part checked against ``config``."""
    _require(isinstance(meta, dict), "the history is missing")
    max_points, first = meta.get("max_points"), meta.get("loss_first_step")
    _require(_is_int(max_points) and 2 <= max_points <= 1 << 16, "bad history resolution")
    _require(first == 1, "bad first step of the loss history")
    loss = arrays.get("history_loss")
    _require(loss is not None and loss.ndim == 1 and loss.dtype == np.float32, "bad loss history")
    steps = loss.shape[0]
    etas = meta.get("eta_changes")
    _require(isinstance(etas, list) and len(etas) >= 1, "the η changes are missing")
    previous = 0
    for pair in etas:
        _require(isinstance(pair, list) and len(pair) == 2, "bad η change")
        s, eta = pair
        _require(_is_int(s) and previous < s <= steps + 1 and _is_eta(eta), "bad η change")
        previous = s
    history = History(etas[0][1], max_points=max_points)
    history.eta_changes = [(s, float(eta)) for s, eta in etas]
    _fill(history.loss, loss)
    for metrics in _decode_epochs(meta.get("epochs"), arrays, config, steps):
        history.record_epoch(metrics)
    watches = meta.get("watches")
    _require(isinstance(watches, list), "the watch list is missing")
    sizes = config.sizes
    for k, entry in enumerate(watches):
        _require(
            isinstance(entry, list) and len(entry) == 4 and all(map(_is_int, entry)),
            "bad watch entry",
        )
        l, i, j, first_step = entry
        _require(
            1 <= l < len(sizes) and 0 <= i < sizes[l] and 0 <= j < sizes[l - 1],
            f"watched weight (l, i, j) = ({l}, {i}, {j}) is outside the network",
        )
        _require(1 <= first_step <= steps + 1, "bad first step of a watched weight")
        watch = Watch(l, i, j, first_step)
        _require(watch.key not in history.watches, "a weight is watched twice")
        for series, suffix in ((watch.w, "w"), (watch.grad, "grad")):
            values = arrays.get(f"watch{k}_{suffix}")
            _require(
                values is not None
                and values.dtype == np.float32
                and values.shape == (steps - first_step + 1,),
                "bad watched-weight series",
            )
            _fill(series, values)
        history.watches[watch.key] = watch
    return history


def _decode_epochs(
    entries: Any, arrays: dict[str, np.ndarray], config: SessionConfig, steps: int
) -> list[EpochMetrics]:
    _require(isinstance(entries, list), "the epoch metrics are missing")
    if not entries:
        return []
    n = len(entries)
    per_class = arrays.get("history_per_class_accuracy")
    confusion = arrays.get("history_confusion")
    _require(per_class is not None and confusion is not None, "epoch arrays are missing")
    classes = per_class.shape[1] if per_class.ndim == 2 else -1
    _require(per_class.shape == (n, classes) and per_class.dtype.kind == "f", "bad accuracies")
    _require(
        confusion.shape == (n, classes, classes) and confusion.dtype.kind in "iu",
        "bad confusion matrices",
    )
    out, previous = [], 0
    for k, entry in enumerate(entries):
        _require(isinstance(entry, dict), "bad epoch entry")
        ints, floats = ("epoch", "step"), ("train_loss", "test_loss", "test_accuracy", "seconds")
        _require(set(entry) == {*ints, *floats}, "bad epoch entry")
        _require(all(_is_int(entry[key]) for key in ints), "bad epoch entry")
        _require(all(_is_number(entry[key]) for key in floats), "bad epoch entry")
        _require(entry["epoch"] == k and previous <= entry["step"] <= steps, "bad epoch entry")
        previous = entry["step"]
        out.append(
            EpochMetrics(
                per_class_accuracy=np.array(per_class[k]),
                confusion=np.array(confusion[k]),
                **{key: entry[key] for key in ints},
                **{key: float(entry[key]) for key in floats},
            )
        )
    return out
