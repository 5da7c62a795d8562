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

from bpviz.files.container import CheckpointError
from bpviz.session.history import History, Watch
from bpviz.session.limits import check_eta, check_sizes
from bpviz.session.snapshot import EpochMetrics, SessionConfig

HIDDEN = ("sigmoid", "tanh", "relu", "leaky_relu")
OUTPUT = ("sigmoid", "softmax")
COST = ("quadratic", "cross_entropy")
INIT = ("scaled", "normal")
MAX_WATCHES = 2000  # watched weights in a file (each is two members of the archive)


def dataset_fingerprint(dataset) -> str:
    """A short hash of a data set's shapes, labels and pixels: a resumed session must
    train on exactly the data it was saved with."""
    digest = hashlib.sha256()
    for name in ("train_images", "train_labels", "test_images", "test_labels"):
        array = getattr(dataset, name)
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
    try:
        check_sizes(sizes)  # the one home of the bounds: nothing is allocated beyond them
    except ValueError as e:
        # every size is ≥ 1 here, so the limits refused too many or too wide layers
        # (or a one-neuron output layer)
        what = "bad layer sizes" if sizes[-1] == 1 else "implausibly large network"
        raise CheckpointError(f"the session file is damaged: {what} {sizes!r} ({e})") from None
    _require(value["hidden"] in HIDDEN, f"unknown hidden activation {value['hidden']!r}")
    _require(value["output"] in OUTPUT, f"unknown output activation {value['output']!r}")
    _require(value["cost"] in COST, f"unknown cost {value['cost']!r}")
    _require(value["init"] in INIT, f"unknown initialisation {value['init']!r}")
    _require(_is_int(value["seed"]) and value["seed"] >= 0, "bad seed")
    _require(_is_int(value["batch_size"]) and value["batch_size"] >= 1, "bad batch size")
    _require(_is_eta(value["eta"]), f"bad η {value['eta']!r}")
    return SessionConfig(**{**value, "sizes": tuple(sizes)})


def _is_eta(value: Any) -> bool:
    """η as ``limits.check_eta`` accepts it (and a JSON number)."""
    try:
        return _is_number(value) and check_eta(value) > 0
    except ValueError:
        return False


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


def _series(arrays: dict[str, np.ndarray], name: str, length: int, what: str) -> np.ndarray:
    """A float32 ``(length,)`` array of finite values (its shape checked before use)."""
    values = arrays.get(name)
    ok = values is not None and values.dtype == np.float32 and values.shape == (length,)
    _require(ok, f"bad {what} ({name})")
    _require(bool(np.isfinite(values).all()), f"the {what} ({name}) has NaN or ∞ values")
    return values


def decode_history(
    meta: Any, arrays: dict[str, np.ndarray], config: SessionConfig, steps: int | None = None
) -> History:
    """A new ``History`` equal to the saved one, every part checked against ``config``
    (and, if given, against the file's step count ``steps``) before anything is built.

    Losses must be finite and ≥ 0, watched series finite, epoch metrics finite and in
    range, confusion counts ≥ 0 and consistent with the accuracies.
    """
    _require(isinstance(meta, dict), "the history is missing")
    max_points, first = meta.get("max_points"), meta.get("loss_first_step")
    _require(_is_int(max_points) and 2 <= max_points <= 1 << 16, "bad history resolution")
    _require(first == 1, "bad first step of the loss history")
    loss = arrays.get("history_loss")
    _require(loss is not None and loss.ndim == 1 and loss.dtype == np.float32, "bad loss history")
    n = loss.shape[0]
    _require(steps is None or n == steps, "the history does not match the step count")
    loss = _series(arrays, "history_loss", n, "loss history")
    _require(bool((loss >= 0).all()), "the loss history has negative values")
    etas = meta.get("eta_changes")
    _require(isinstance(etas, list) and 1 <= len(etas) <= n + 1, "bad η changes")
    previous = 0
    for pair in etas:
        _require(isinstance(pair, list) and len(pair) == 2, "bad η change")
        s, eta = pair
        _require(_is_int(s) and previous < s <= n + 1 and _is_eta(eta), "bad η change")
        previous = s
    epochs = _decode_epochs(meta.get("epochs"), arrays, config, n)
    watches = _decode_watches(meta.get("watches"), arrays, config, n)
    # All checked: build it (whole arrays at once, never value by value).
    history = History(etas[0][1], max_points=max_points)
    history.eta_changes = [(s, float(eta)) for s, eta in etas]
    history.loss.extend(loss)
    for metrics in epochs:
        history.record_epoch(metrics)
    for (l, i, j, first_step), w, grad in watches:
        watch = Watch(l, i, j, first_step)
        watch.w.extend(w)
        watch.grad.extend(grad)
        history.watches[watch.key] = watch
    return history


def _decode_watches(entries: Any, arrays: dict[str, np.ndarray], config: SessionConfig, n: int):
    _require(isinstance(entries, list) and len(entries) <= MAX_WATCHES, "bad watch list")
    sizes, out, seen = config.sizes, [], set()
    for k, entry in enumerate(entries):
        _require(
            isinstance(entry, list) and len(entry) == 4 and all(map(_is_int, entry)),
            "bad watch entry",
        )
        l, i, j, first_step = entry
        _require(
            1 <= l < len(sizes) and 0 <= i < sizes[l] and 0 <= j < sizes[l - 1],
            f"watched weight (l, i, j) = ({l}, {i}, {j}) is outside the network",
        )
        _require(1 <= first_step <= n + 1, "bad first step of a watched weight")
        _require((l, i, j) not in seen, "a weight is watched twice")
        seen.add((l, i, j))
        length = n - first_step + 1
        series = [
            _series(arrays, f"watch{k}_{part}", length, "watched-weight series")
            for part in ("w", "grad")
        ]
        out.append(((l, i, j, first_step), *series))
    return out


def _frozen_copy(array: np.ndarray, dtype) -> np.ndarray:
    copy = np.array(array, dtype=dtype)
    copy.flags.writeable = False
    return copy


def _decode_epochs(
    entries: Any, arrays: dict[str, np.ndarray], config: SessionConfig, steps: int
) -> list[EpochMetrics]:
    _require(isinstance(entries, list) and len(entries) <= steps, "the epoch metrics are missing")
    if not entries:
        return []
    n = len(entries)
    per_class = arrays.get("history_per_class_accuracy")
    confusion = arrays.get("history_confusion")
    _require(per_class is not None and confusion is not None, "epoch arrays are missing")
    classes = config.sizes[-1]
    _require(per_class.shape == (n, classes) and per_class.dtype == np.float64, "bad accuracies")
    _require(
        confusion.shape == (n, classes, classes) and confusion.dtype == np.int64,
        "bad confusion matrices",
    )
    _require(bool((confusion >= 0).all()), "negative counts in a confusion matrix")
    counts = confusion.sum(axis=2, dtype=np.float64)  # test examples of each class
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.diagonal(confusion, axis1=1, axis2=2) / counts
    # NaN only for a class without test examples, else its accuracy from the matrix
    _require(
        np.allclose(per_class, expected, rtol=1e-6, atol=0, equal_nan=True),
        "the accuracies do not match the confusion matrices",
    )
    out, previous = [], 0
    for k, entry in enumerate(entries):
        _require(isinstance(entry, dict), "bad epoch entry")
        ints, floats = ("epoch", "step"), ("train_loss", "test_loss", "test_accuracy", "seconds")
        _require(set(entry) == {*ints, *floats}, "bad epoch entry")
        _require(all(_is_int(entry[key]) for key in ints), "bad epoch entry")
        _require(
            all(_is_number(entry[key]) and math.isfinite(entry[key]) for key in floats),
            "an epoch's metrics are not finite",
        )
        _require(
            min(entry[key] for key in floats) >= 0 and entry["test_accuracy"] <= 1,
            "an epoch's metrics are out of range",
        )
        _require(entry["epoch"] == k and previous <= entry["step"] <= steps, "bad epoch entry")
        previous = entry["step"]
        out.append(
            EpochMetrics(
                per_class_accuracy=_frozen_copy(per_class[k], np.float64),
                confusion=_frozen_copy(confusion[k], np.int64),
                **{key: entry[key] for key in ints},
                **{key: float(entry[key]) for key in floats},
            )
        )
    return out
