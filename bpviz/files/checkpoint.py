"""Session files: save a training session and open it again, safely.

The file is the container of ``bpviz.files.container`` (a zip of ``meta.json`` and
``.npy`` arrays, versioned, pickling off) with the codecs of ``bpviz.files.codecs``.
``save_session``/``open_session`` serve the window's File menu and the headless trainer's
``train --save``/``--resume`` alike (kind ``"window"``); files of the trainer's former
format (kind ``"train"``) are upgraded on opening (``bpviz.session.oldtrain``). Opening
reads and checks everything, against the data too, before the session is touched: a
damaged, truncated, foreign or newer file raises ``CheckpointError`` and leaves the
session as it was.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from bpviz.engine.kernels import n_parameters
from bpviz.files.codecs import (
    _is_eta,
    _is_int,
    _is_number,
    _require,
    dataset_fingerprint,
    decode_config,
    decode_history,
    decode_rng,
    encode_config,
    encode_history,
    encode_rng,
)
from bpviz.files.container import (
    FORMAT,
    META,
    SUFFIX,
    VERSION,
    Checkpoint,
    CheckpointError,
    read_checkpoint,
    write_checkpoint,
)
from bpviz.session.snapshot import SessionConfig

__all__ = [
    "FORMAT",
    "META",
    "SUFFIX",
    "VERSION",
    "WINDOW",
    "Checkpoint",
    "CheckpointError",
    "dataset_fingerprint",
    "decode_config",
    "decode_history",
    "decode_rng",
    "encode_config",
    "encode_history",
    "encode_rng",
    "loss_per_step",
    "open_session",
    "open_session_from",
    "read_checkpoint",
    "save_session",
    "save_session_to",
    "write_checkpoint",
]

WINDOW = "window"  # the kind of file the window and the CLI write ("train": the CLI's former)


def _as_error(error: Exception) -> CheckpointError:
    return error if isinstance(error, CheckpointError) else CheckpointError(str(error))


def save_session(path: str | Path, session, *, data: str | None = None) -> None:
    """Write ``session`` (a ``bpviz.session.session.Session``, not running) to ``path``;
    ``data``: where its data set came from (``"sample"`` or a folder), for ``--resume``.

    Saved: configuration, parameters, η, step, epoch, position in the epoch, the epoch's
    data order, the phase reached in the current mini-batch, the divergence checkpoints,
    the history (loss per step, epoch metrics, η changes, watched weights) and a
    fingerprint of the data. A mini-batch under way is saved as the parameters it started
    from plus the number of phases run; opening replays those phases (deterministic).
    """
    private = session.file_state()
    history_meta, arrays = encode_history(session.history)
    checkpoints = private["checkpoints"]
    meta = {
        "kind": WINDOW,
        "config": encode_config(session.config),
        "eta": session.eta,
        "step": session.step,
        "epoch": session.epoch,
        "batch_in_epoch": session.batch_in_epoch,
        "batches_per_epoch": session.batches_per_epoch,
        "phase_index": private["phases_run"] - 1,
        "epoch_seconds": private["epoch_seconds"],
        "last_eval_is_last_epoch": session.last_eval is not None,
        "checkpoint_steps": [step for step, _ in checkpoints],
        "data_fingerprint": dataset_fingerprint(session.dataset),
        "data_description": session.dataset.source,
        "history": history_meta,
    }
    if data is not None:
        meta["data"] = data
    arrays["parameters"] = session.network.parameters
    arrays["order"] = np.asarray(private["order"], np.int64)
    for n, (_, params) in enumerate(checkpoints):
        arrays[f"checkpoint{n}"] = params
    write_checkpoint(path, meta, arrays)


def _counter(meta: dict, name: str, low: int = 0, high: int | None = None) -> int:
    value = meta.get(name)
    ok = _is_int(value) and value >= low and (high is None or value <= high)
    _require(ok, f"bad {name.replace('_', ' ')} {value!r}")
    return value


def _own_copy(metrics):
    """``metrics`` (EpochMetrics) with read-only arrays of their own: what a snapshot
    shows is never an array of the session's history."""
    from dataclasses import replace

    arrays = {}
    for name in ("per_class_accuracy", "confusion"):
        arrays[name] = np.array(getattr(metrics, name), copy=True)
        arrays[name].flags.writeable = False
    return replace(metrics, **arrays)


def _parameters(arrays: dict, name: str, like: np.ndarray) -> np.ndarray:
    array = arrays.get(name)
    _require(array is not None, f"array {name!r} is missing")
    _require(array.shape == like.shape and array.dtype == like.dtype, f"{name} do not fit")
    _require(bool(np.all(np.isfinite(array))), f"{name} are not finite")
    return np.array(array, copy=True)


def open_session(path: str | Path, session, *, checkpoint: Checkpoint | None = None) -> None:
    """Replace ``session``'s state by the one saved in ``path`` (already read into
    ``checkpoint``, if given).

    Everything is read and checked first, against ``session.dataset`` too; only then is
    the session changed. Raises ``CheckpointError`` (the session untouched) when the file
    is damaged, foreign, of a newer format, or was saved on other data.
    """
    from bpviz.session import oldtrain
    from bpviz.session.config import ETA_MAX, check_config, epoch_order, make_network

    ckpt = read_checkpoint(path) if checkpoint is None else checkpoint
    meta, arrays = ckpt.meta, ckpt.arrays
    dataset = session.dataset
    if meta.get("kind") == oldtrain.KIND:
        meta, arrays = oldtrain.upgrade(meta, arrays, dataset.train_images.shape[0])
    _require(meta.get("kind") == WINDOW, "it is not a window session")
    if meta.get("data_fingerprint") != dataset_fingerprint(dataset):
        raise CheckpointError(
            f"{path} was saved while training on {meta.get('data_description') or '?'}; "
            f"the window now trains on {dataset.source or 'other data'}. Choose that data "
            "source first (Data menu), then open the session again."
        )
    config = decode_config(meta.get("config"))
    params = arrays.get("parameters")  # its size first: never build a network it does not fit
    _require(params is not None and params.size == n_parameters(config.sizes), "bad parameters")
    try:
        config = check_config(config, dataset)
        network = make_network(config)
    except ValueError as error:
        raise _as_error(error) from error
    n_train = dataset.train_images.shape[0]
    batches = n_train // config.batch_size
    _require(meta.get("batches_per_epoch") == batches, "bad epoch length")
    step, epoch = _counter(meta, "step"), _counter(meta, "epoch")
    batch_in_epoch = _counter(meta, "batch_in_epoch", 0, batches - 1)
    k = _counter(meta, "phase_index", -1, 3 * config.n_layers)
    _require(_is_eta(meta.get("eta")) and meta["eta"] <= ETA_MAX, "bad η")
    seconds = meta.get("epoch_seconds")
    _require(_is_number(seconds) and math.isfinite(seconds) and seconds >= 0, "bad seconds")
    _require(step >= epoch * batches + batch_in_epoch, "inconsistent step count")
    parameters = _parameters(arrays, "parameters", network.parameters)
    order = arrays.get("order")
    _require(order is not None and order.shape == (n_train,), "bad data order")
    _require(np.array_equal(order, epoch_order(config.seed, epoch, n_train)), "bad data order")
    history = decode_history(meta.get("history"), arrays, config, steps=step)
    _require(len(history.epochs) == epoch, "the epoch metrics do not match the epoch")
    steps = meta.get("checkpoint_steps")
    _require(isinstance(steps, list) and 1 <= len(steps) <= 16, "bad checkpoints")
    start = step - batch_in_epoch
    _require(all(_is_int(s) and start <= s <= step for s in steps), "bad checkpoint steps")
    checkpoints = [
        (s, _parameters(arrays, f"checkpoint{n}", network.parameters)) for n, s in enumerate(steps)
    ]
    last_eval = meta.get("last_eval_is_last_epoch")
    _require(isinstance(last_eval, bool) and (not last_eval or epoch > 0), "bad last evaluation")

    # All checked: from here on nothing can fail on the file's account.
    session.restore(
        config,
        parameters,
        eta=float(meta["eta"]),
        step=step,
        epoch=epoch,
        batch_in_epoch=batch_in_epoch,
        history=history,
        last_eval=_own_copy(history.epochs[-1]) if last_eval else None,
        checkpoints=checkpoints,
        epoch_seconds=float(seconds),
        phases_run=k + 1,
    )


# For ``worker.with_session(fn, *args)`` (module-level, so a training process can run them).


def save_session_to(session, path: str) -> str:
    """``save_session(path, session)``; returns the path."""
    save_session(path, session)
    return str(path)


def open_session_from(session, path: str) -> tuple[SessionConfig, float]:
    """``open_session(path, session)``; returns the opened configuration and η."""
    open_session(path, session)
    return session.config, session.eta


def loss_per_step(session) -> np.ndarray:
    """A copy of the loss of every mini-batch so far, ``(steps,)`` float32."""
    return np.array(session.history.loss.values)
