"""Session files written by ``train --save`` before the headless trainer ran a ``Session``.

Those files (``"kind": "train"``) held the run's flags (``run``: layers, activations,
cost, init, seed, batch size, η, data), the parameters after a whole epoch, the epoch
and step counters and the same history as the window's files. ``upgrade`` turns one
into the window's format (``"kind": "window"``, ``bpviz.files.checkpoint``) so that
both the window and ``train --resume`` open it, checked by the same code as any other
session file. Everything missing from the old format follows from it: the file was
written between epochs, so no mini-batch was under way, the epoch's data order is
``epoch_order(seed, epoch)``, and the only divergence checkpoint is the saved
parameters.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bpviz.files.codecs import _is_int, _require
from bpviz.session.config import epoch_order

KIND = "train"
RUN_FLAGS = ("layers", "hidden", "output", "cost", "init", "seed", "batch_size", "eta", "data")
MAX_DATA_CHARS = 4096  # a folder name; longer is not one we wrote


def _config(run: Any) -> dict[str, Any]:
    """The window format's ``config`` from the old ``run`` flags (checked later by
    ``decode_config``, as any file's)."""
    _require(isinstance(run, dict) and set(run) == set(RUN_FLAGS), "bad run settings")
    layers = run["layers"]
    _require(isinstance(layers, str) and len(layers) <= 1024, "bad layers in the run settings")
    try:
        sizes = [int(n) for n in layers.split(",")]
    except ValueError:
        sizes = None
    _require(sizes is not None, "bad layers in the run settings")
    output, cost = run["output"], run["cost"]
    if cost is None:  # the trainer's default, as ``network_from`` chose it
        cost = "cross_entropy" if output == "softmax" else "quadratic"
    return {
        "sizes": sizes,
        "hidden": run["hidden"],
        "output": output,
        "cost": cost,
        "init": run["init"],
        "seed": run["seed"],
        "batch_size": run["batch_size"],
        "eta": run["eta"],
    }


def upgrade(
    meta: dict[str, Any], arrays: dict[str, np.ndarray], n_train: int
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The window-format ``(meta, arrays)`` of an old ``train --save`` file, for a data set
    of ``n_train`` training examples (new objects; CheckpointError if it is damaged)."""
    config = _config(meta.get("run"))
    epoch, steps = meta.get("epoch"), meta.get("steps")
    _require(all(_is_int(v) and v >= 0 for v in (epoch, steps)), "bad epoch or step count")
    seed, batch_size = config["seed"], config["batch_size"]
    _require(_is_int(seed) and seed >= 0 and _is_int(batch_size) and batch_size >= 1, "bad run")
    data = meta["run"]["data"]
    _require(data is None or (isinstance(data, str) and len(data) <= MAX_DATA_CHARS), "bad data")
    parameters = arrays.get("parameters")
    _require(parameters is not None, "array 'parameters' is missing")
    history = meta.get("history")
    epochs = history.get("epochs") if isinstance(history, dict) else None
    new = {
        "kind": "window",
        "config": config,
        "eta": config["eta"],
        "step": steps,
        "epoch": epoch,
        "batch_in_epoch": 0,
        "batches_per_epoch": n_train // batch_size,
        "phase_index": -1,
        "epoch_seconds": 0.0,
        "last_eval_is_last_epoch": bool(epochs) and epoch > 0,
        "checkpoint_steps": [steps],
        "data_fingerprint": meta.get("data_fingerprint"),
        "data_description": meta.get("data_description"),
        "history": history,
    }
    if data is not None:
        new["data"] = data
    order = epoch_order(seed, epoch, n_train)
    return new, {**arrays, "order": order, "checkpoint0": parameters}
