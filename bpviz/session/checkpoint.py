"""Session files: save a training session and open it again, safely.

A session file is a zip archive (the ``.npz`` layout): one ``meta.json`` member with the
format name, the format version and every scalar of the session, and one ``NAME.npy``
member per array, written and read by NumPy's ``.npy`` format with pickling off, so
opening a file can never execute code. Reading checks everything before anything is
used: the container, the format and its version, each member's declared size against
its header, the dtypes, then (in ``decode_*``) every shape and value against the
configuration. Anything wrong raises ``CheckpointError`` with a sentence a person can act
on; the caller's session is never touched, because decoding builds new objects only.

Format history: version 1 (bpviz 0.1).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
import zipfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib import format as npy

from bpviz.session.history import History, Watch
from bpviz.session.snapshot import EpochMetrics, SessionConfig

FORMAT = "bpviz-session"
VERSION = 1
META = "meta.json"
SUFFIX = ".npz"
MAX_META_BYTES = 64 << 20
MAX_ARRAY_BYTES = 4 << 30  # all arrays together, uncompressed
MAX_MEMBERS = 10_000
ALLOWED_KINDS = "biuf"  # bool, signed and unsigned integers, floats: nothing with objects

HIDDEN = ("sigmoid", "tanh", "relu", "leaky_relu")
OUTPUT = ("sigmoid", "softmax")
COST = ("quadratic", "cross_entropy")
INIT = ("scaled", "normal")


class CheckpointError(ValueError):
    """A session file cannot be written or opened; the message says why, for a person."""


@dataclass(frozen=True)
class Checkpoint:
    """The decoded container: JSON metadata and named arrays (read-only)."""

    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]


# ------------------------------------------------------------------------- container


def write_checkpoint(path: str | Path, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Write ``meta`` (JSON-able; format and version are added) and ``arrays`` to ``path``.

    Atomic: the file is written beside ``path`` and renamed over it only when complete, so
    a crash or a full disk never leaves a half-written session where a good one was.
    """
    path = Path(path)
    body = {"format": FORMAT, "version": VERSION, **meta}
    text = json.dumps(body, ensure_ascii=False, allow_nan=True, indent=1)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as e:
        raise CheckpointError(f"cannot write {path}: {e.strerror or e}") from e
    try:
        with (
            os.fdopen(fd, "wb") as raw,
            zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
        ):
            zf.writestr(META, text.encode("utf-8"))
            for name, array in arrays.items():
                array = np.ascontiguousarray(array)
                if array.dtype.kind not in ALLOWED_KINDS:
                    raise CheckpointError(f"array {name!r} has unsupported dtype {array.dtype}")
                with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                    npy.write_array(member, array, allow_pickle=False)
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise CheckpointError(f"cannot write {path}: {e.strerror or e}") from e
        raise


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Read and check a session file's container; raise ``CheckpointError`` if it is not a
    complete bpviz session file of a version this bpviz reads."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            return _read_zip(path, zf)
    except CheckpointError:
        raise
    except FileNotFoundError as e:
        raise CheckpointError(f"{path} does not exist") from e
    except IsADirectoryError as e:
        raise CheckpointError(f"{path} is a folder, not a session file") from e
    except OSError as e:
        raise CheckpointError(f"cannot read {path}: {e.strerror or e}") from e
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as e:
        raise CheckpointError(
            f"{path} is not a bpviz session file, or it is damaged or truncated ({e})"
        ) from e
    except (ValueError, KeyError, TypeError, OverflowError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path} is damaged: {e}") from e
    except Exception as e:  # zlib.error and friends from a corrupt stream
        raise CheckpointError(f"{path} is damaged ({type(e).__name__}: {e})") from e


def _read_zip(path: Path, zf: zipfile.ZipFile) -> Checkpoint:
    infos = zf.infolist()
    names = [info.filename for info in infos]
    if META not in names:
        raise CheckpointError(f"{path} is not a bpviz session file (it has no {META})")
    if len(infos) > MAX_MEMBERS or len(set(names)) != len(names):
        raise CheckpointError(f"{path} is damaged: unexpected archive members")
    meta_info = zf.getinfo(META)
    if meta_info.file_size > MAX_META_BYTES:
        raise CheckpointError(f"{path} is damaged: its metadata is implausibly large")
    meta = json.loads(zf.read(META).decode("utf-8"))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a bpviz session file")
    version = meta.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CheckpointError(f"{path} is damaged: bad format version {version!r}")
    if version > VERSION:
        raise CheckpointError(
            f"{path} was saved by a newer bpviz (session format {version}; this bpviz "
            f"reads up to {VERSION}). Update bpviz to open it."
        )
    total = sum(info.file_size for info in infos if info.filename != META)
    if total > MAX_ARRAY_BYTES:
        raise CheckpointError(f"{path} is damaged: its arrays are implausibly large")
    arrays: dict[str, np.ndarray] = {}
    for info in infos:
        if info.filename == META:
            continue
        if not info.filename.endswith(".npy") or info.is_dir():
            raise CheckpointError(f"{path} is damaged: unexpected member {info.filename!r}")
        arrays[info.filename[:-4]] = _read_member(zf, info)
    return Checkpoint(meta, arrays)


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    with zf.open(info) as f:
        major, minor = npy.read_magic(f)
        if (major, minor) == (1, 0):
            shape, fortran, dtype = npy.read_array_header_1_0(f)
        elif (major, minor) == (2, 0):
            shape, fortran, dtype = npy.read_array_header_2_0(f)
        else:
            raise ValueError(f"unsupported .npy version {major}.{minor}")
        if dtype.kind not in ALLOWED_KINDS or dtype.hasobject:
            raise ValueError(f"array {info.filename!r} has unsupported dtype {dtype}")
        count = math.prod(shape)
        header = f.tell()
        if header + count * dtype.itemsize != info.file_size:
            raise ValueError(f"array {info.filename!r} does not match its declared size")
        data = f.read(count * dtype.itemsize)
        if len(data) != count * dtype.itemsize or f.read(1):  # reading to the end checks the CRC
            raise EOFError(f"array {info.filename!r} is truncated")
    order = "F" if fortran else "C"
    array = np.frombuffer(data, dtype=dtype).reshape(shape, order=order)
    array.flags.writeable = False
    return array


# ----------------------------------------------------------------------------- codecs


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


def float_array(arrays: dict[str, np.ndarray], name: str, shape: tuple[int, ...]) -> np.ndarray:
    """``arrays[name]`` checked to be a float array of ``shape``; a writable copy."""
    _require(name in arrays, f"array {name!r} is missing")
    array = arrays[name]
    _require(array.dtype.kind == "f", f"array {name!r} has dtype {array.dtype}")
    _require(array.shape == shape, f"array {name!r} has shape {array.shape}, not {shape}")
    return np.array(array, copy=True)


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
    _require(_is_int(max_points) and 2 <= max_points <= 1 << 24, "bad history resolution")
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
    history.epochs = _decode_epochs(meta.get("epochs"), arrays, config, steps)
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
            f"watched weight w_{i}{j} of W^{l} is outside the network",
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
