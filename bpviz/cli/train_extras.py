"""``train --save FILE``, ``--resume FILE``, ``--snapshot-every N --out DIR``.

A trainer file holds what the next epoch depends on: the parameters, the epoch and step
counters (the shuffling order is ``epoch_order(seed, epoch)``, a function of both), the
flags that define the run, a fingerprint of the data and the history (loss per step,
epoch metrics, η changes). Resuming restores all of it, so ``train --epochs 1 --save F``
then ``train --resume F --epochs 1`` prints the same second epoch as ``train --epochs 2``
(``seconds`` aside). The container is the session file's (``bpviz.session.checkpoint``:
versioned, no pickle, checked on reading).

Snapshots: every N steps the step's full trace (``FastTrainer.traces``) becomes a
``Snapshot`` after its update, and ``bpviz.ui.headless`` draws the views offscreen and
writes a bundle into DIR. Qt is imported only then.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from bpviz.engine import one_hot
from bpviz.session.checkpoint import (
    CheckpointError,
    dataset_fingerprint,
    decode_history,
    encode_history,
    read_checkpoint,
    write_checkpoint,
)
from bpviz.session.codecs import n_parameters
from bpviz.session.history import History
from bpviz.session.limits import check_batch_size
from bpviz.session.snapshot import EpochMetrics, Phase, PhaseKind, SessionConfig, Snapshot

KIND = "train"
RUN_FLAGS = ("layers", "hidden", "output", "cost", "init", "seed", "batch_size")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of this module."""
    parser.add_argument("--save", metavar="FILE", help="save the run after the last epoch")
    parser.add_argument(
        "--resume",
        metavar="FILE",
        help="continue a run saved with --save (its network, seed and data order; --eta "
        "changes η from here on)",
    )
    parser.add_argument(
        "--snapshot-every",
        type=int,
        metavar="N",
        help="every N steps, draw the views offscreen and write an export bundle into --out",
    )
    parser.add_argument("--out", metavar="DIR", help="folder for the --snapshot-every bundles")


def _given(argv: list[str], name: str) -> bool:
    flag = "--" + name.replace("_", "-")
    return any(a == flag or a.startswith(flag + "=") for a in argv)


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True)
    array.flags.writeable = False
    return array


class TrainExtras:
    """Everything the three flags add to the trainer's loop; inert when none is given."""

    def __init__(self, args: argparse.Namespace, argv: list[str]) -> None:
        """Check the flags and read ``--resume``'s file; sets ``args``' run flags from it.
        Raises ValueError for bad flags, CheckpointError for a bad file."""
        self.args = args
        every, out = args.snapshot_every, args.out
        if every is not None and every < 1:
            raise ValueError("--snapshot-every must be ≥ 1")
        if (every is None) != (out is None):
            raise ValueError("--snapshot-every and --out go together")
        self.resumed: dict | None = None
        self.history: History | None = None
        if args.resume:
            self._read(args.resume, argv)
        self.keep_history = bool(args.save or every or self.resumed)
        self.exporter = None
        self.last_eval: EpochMetrics | None = None

    def _read(self, path: str, argv: list[str]) -> None:
        ckpt = read_checkpoint(path)
        meta = ckpt.meta
        if meta.get("kind") == "window":
            raise CheckpointError(
                f"{path} is a session saved by the window, not by 'train --save'; open it "
                "in the window (File ▸ Open session)"
            )
        if meta.get("kind") != KIND:
            raise CheckpointError(f"{path} is damaged: unknown kind of session")
        run = meta.get("run")
        if not isinstance(run, dict) or set(run) != {*RUN_FLAGS, "eta", "data"}:
            raise CheckpointError(f"{path} is damaged: bad run settings")
        types = {"layers": str, "hidden": str, "output": str, "init": str, "seed": int,
                 "batch_size": int, "cost": (str, type(None)), "data": (str, type(None)),
                 "eta": (int, float)}  # fmt: skip
        for name, kind in types.items():
            if not isinstance(run[name], kind) or isinstance(run[name], bool):
                raise CheckpointError(f"{path} is damaged: bad {name} in the run settings")
        try:
            sizes = [int(n) for n in run["layers"].split(",")]
        except ValueError:
            raise CheckpointError(f"{path} is damaged: bad layers in the run settings") from None
        params = ckpt.arrays.get("parameters")
        if params is None or min(sizes, default=0) < 1 or params.size != n_parameters(sizes):
            raise CheckpointError(f"{path} is damaged: the parameters do not fit the network")
        for name in RUN_FLAGS:
            if _given(argv, name) and getattr(self.args, name) != run[name]:
                flag = "--" + name.replace("_", "-")
                raise ValueError(
                    f"--resume continues the saved run, whose {flag} is {run[name]}; drop {flag}"
                )
            setattr(self.args, name, run[name])
        if not _given(argv, "eta"):
            self.args.eta = run["eta"]
        if not _given(argv, "data") and run["data"] is not None:
            self.args.data = run["data"]
        self.resumed = {"ckpt": ckpt, "path": path}

    # --- the run ---

    def start(self, net, data, description: str) -> tuple[int, int]:
        """The first epoch number and the steps done so far; a resumed
        run's parameters are put into ``net``. CheckpointError if the file does not fit."""
        a = self.args
        self.config = SessionConfig(
            sizes=tuple(net.sizes), hidden=net.hidden, output=net.output, cost=net.cost,
            init=net.init, seed=net.seed, batch_size=a.batch_size, eta=a.eta,
        )  # fmt: skip
        self.data, self.description = data, description
        if self.resumed is None:
            self.history = History(a.eta) if self.keep_history else None
            return 1, 0
        ckpt, path = self.resumed["ckpt"], self.resumed["path"]
        meta = ckpt.meta
        try:  # the saved batch size, against the data it resumes on
            check_batch_size(a.batch_size, data.train_images.shape[0])
        except ValueError as e:
            raise CheckpointError(f"{path} does not fit the data: {e}") from None
        if meta.get("data_fingerprint") != dataset_fingerprint(data):
            raise CheckpointError(
                f"{path} was trained on {meta.get('data_description', '?')}, but the data "
                f"now is {description}: pass the same --data"
            )
        params = ckpt.arrays.get("parameters")
        if params is None or params.shape != net.parameters.shape or params.dtype != net.dtype:
            raise CheckpointError(f"{path} is damaged: the parameters do not fit the network")
        if not np.all(np.isfinite(params)):
            raise CheckpointError(f"{path} is damaged: its parameters are not finite")
        epoch, steps = meta.get("epoch"), meta.get("steps")
        ok = all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (epoch, steps))
        if not ok:
            raise CheckpointError(f"{path} is damaged: bad epoch or step count")
        history = decode_history(meta.get("history"), ckpt.arrays, self.config)
        if history.steps != steps:
            raise CheckpointError(f"{path} is damaged: the history does not match the steps")
        net.parameters[...] = params
        if history.eta_changes[-1][1] != a.eta:
            history.record_eta(steps + 1, a.eta)
        self.history = history
        self.last_eval = history.epochs[-1] if history.epochs else None
        return epoch + 1, steps

    def train_epoch(self, trainer, order: np.ndarray, eta: float, epoch: int, steps: int):
        """``trainer.train_epoch(order, eta)``, stopping after every N-th step to write a
        bundle when asked (bit-identical: the same steps in the same order)."""
        every = self.args.snapshot_every
        if not every:
            return self._keep(trainer.train_epoch(order, eta))
        B, parts, k = trainer.batch_size, [], 0
        n_batches = -(-order.shape[0] // B)
        while k < n_batches:
            upto = k + every - (steps + k) % every  # the next multiple of N, 1-based
            if upto > n_batches:  # none left in this epoch
                parts.append(self._keep(trainer.train_epoch(order[k * B :], eta)))
                break
            if upto - 1 > k:
                parts.append(self._keep(trainer.train_epoch(order[k * B : (upto - 1) * B], eta)))
                if not math.isfinite(parts[-1][-1]):
                    break
            k = upto - 1
            indices = order[k * B : (k + 1) * B]
            at = (epoch, steps + k + 1, k + 1, n_batches)
            parts.append(np.array([self._snapshot_step(trainer, indices, eta, *at)]))
            k += 1
            if not math.isfinite(parts[-1][-1]):
                break
        return np.concatenate(parts)

    def _keep(self, losses: np.ndarray) -> np.ndarray:
        """Add the finite losses to the history (a diverged batch's is the last)."""
        if self.history is not None:
            good = losses if math.isfinite(losses[-1]) else losses[:-1]
            for value in good.tolist():
                self.history.loss.append(value)
        return losses

    def _snapshot_step(self, trainer, indices, eta, epoch, step, batch, n_batches) -> float:
        """One step on the fast path, then its bundle (after the update)."""
        net = trainer.net
        before_w = tuple(_frozen(w) for w in net.weights)
        before_b = tuple(_frozen(b) for b in net.biases)
        loss = trainer.step(indices, eta)
        if not math.isfinite(loss):
            return loss
        forward, backward = trainer.traces()
        labels = _frozen(self.data.train_labels[indices].astype(np.int64))
        losses = None
        if self.history is not None:  # the bundle's history includes this step
            self.history.loss.append(loss)
            losses = np.array(self.history.loss.values)
        snapshot = Snapshot(
            config=self.config, phase=Phase(PhaseKind.UPDATE), phase_index=3 * net.n_layers + 1,
            step=step, epoch=epoch - 1, batch_in_epoch=batch, batches_per_epoch=n_batches,
            eta=eta, weights=tuple(_frozen(w) for w in net.weights),
            biases=tuple(_frozen(b) for b in net.biases), weights_before=before_w,
            biases_before=before_b, x=forward.a[0], labels=labels,
            y=_frozen(one_hot(labels, net.sizes[-1], net.dtype)), z=forward.z, a=forward.a,
            dC_da=backward.dC_da, sigma_prime=backward.sigma_prime, delta=backward.delta,
            grad_w=backward.grad_w, grad_b=backward.grad_b, loss=float(loss),
            history=None if self.history is None else self.history.view(),
            last_eval=self.last_eval,
        )  # fmt: skip
        if self.exporter is None:
            from bpviz.ui.headless import OffscreenExporter

            self.exporter = OffscreenExporter(self.args.out, data_source=self.description)
        report = self.exporter.export(snapshot, loss_per_step=losses)
        print(f"snapshot: step {step} → {report.folder}", file=sys.stderr, flush=True)
        return loss

    def end_epoch(self, epoch: int, steps: int, train_loss: float, result, seconds: float) -> None:
        """Record the epoch's held-out metrics (``result``: the engine's Evaluation)."""
        metrics = EpochMetrics(
            epoch=epoch - 1, step=steps, train_loss=train_loss, test_loss=float(result.loss),
            test_accuracy=float(result.accuracy), per_class_accuracy=result.per_class_accuracy,
            confusion=result.confusion, seconds=seconds,
        )  # fmt: skip
        self.last_eval = metrics
        if self.history is not None:
            self.history.record_epoch(metrics)

    def close(self) -> None:
        """Close the offscreen views, if any were opened."""
        if self.exporter is not None:
            self.exporter.close()
            self.exporter = None

    def save(self, net, epoch: int, steps: int) -> None:
        """Write ``--save``'s file (atomically), if asked: the state after epoch ``epoch``."""
        if not self.args.save:
            return
        a = self.args
        meta = {
            "kind": KIND,
            "run": {name: getattr(a, name) for name in (*RUN_FLAGS, "eta", "data")},
            "epoch": epoch,
            "steps": steps,
            "data_fingerprint": dataset_fingerprint(self.data),
            "data_description": self.description,
        }
        history_meta, arrays = encode_history(self.history)
        meta["history"] = history_meta
        write_checkpoint(Path(a.save), meta, {**arrays, "parameters": net.parameters})
        print(f"saved: {a.save}", file=sys.stderr, flush=True)
