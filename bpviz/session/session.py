"""The training session: the paper's mini-batch gradient descent as a state machine (IV.4).

One mini-batch is 3L + 2 phases (``phases_for``): forward l = 1 … L, cost, δ^L … δ^1,
∂C/∂W^L … ∂C/∂W^1, update. ``step_phase`` runs one phase and returns a Snapshot;
``step_batch`` runs the rest of the current mini-batch; ``run`` trains at full speed on
the engine's fast path (bit-identical parameters, no trace) and is what the worker calls.

Epochs: the order of the training set is a seeded permutation per epoch
(``epoch_order``); an epoch is ``n_train // batch_size`` mini-batches, the remainder
of the permutation is skipped. At each epoch end the held-out set is evaluated.

Divergence: the moment the loss, an activation or a parameter is not finite, the session
restores the last finite parameters, sets ``diverged`` and a ``message`` naming the step
and η; nothing else is lost. The fast path keeps a checkpoint every few hundred steps and
replays the steps since (they are deterministic) to land on the last finite parameters.
Plain Python, no threads, no Qt. NumPy floating-point warnings are silenced inside.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import replace

import numpy as np

from bpviz.data.dataset import Dataset
from bpviz.engine import one_hot
from bpviz.engine.validation import frozen, frozen_copies
from bpviz.session import evaluation
from bpviz.session.clock import ComputeClock
from bpviz.session.config import (
    ETA_MAX,
    all_finite,
    check_config,
    check_eta,
    epoch_order,
    make_network,
)
from bpviz.session.fastpath import CHECKPOINT_EVERY, FastPath
from bpviz.session.history import History
from bpviz.session.limits import check_weight
from bpviz.session.snapshot import (
    BatchTrace,
    Counters,
    Parameters,
    Phase,
    PhaseKind,
    SessionConfig,
    Snapshot,
    make_snapshot,
    phases_for,
)
from bpviz.session.stepping import run_phase

__all__ = ["CHECKPOINT_EVERY", "ETA_MAX", "Session", "check_config", "check_eta", "epoch_order"]

DEFAULT_CONFIG = SessionConfig()  # the paper's 784-30-10, sigmoid, quadratic, η = 3, batch 10


class Session:
    """A training run on ``dataset`` as configured by ``config`` (see the module doc).

    Attributes: ``config``, ``network``, ``dataset``, ``eta`` (η of the next update),
    ``step`` (completed updates), ``epoch`` (0-based), ``batch_in_epoch``,
    ``batches_per_epoch``, ``history``, ``last_eval``, ``message``, ``diverged``,
    ``divergence`` (the step that diverged and what happened, once one has).

    The mini-batch under way is kept as the engine's traces (``ForwardTrace``,
    ``BackwardTrace``, entries not computed yet None), which ``snapshot`` publishes as
    they are; full-speed training is the ``FastPath`` object ``fast`` (made on reset).
    """

    def __init__(self, dataset: Dataset, config: SessionConfig = DEFAULT_CONFIG) -> None:
        self.dataset = dataset
        self.history: History | None = None
        # ``loss_listener(first_step, losses)`` hears the float64 losses ``(k,)`` of steps
        # first_step … first_step + k − 1 as they are recorded (the history keeps float32;
        # a divergence's replay repeats steps): the headless trainer's exact epoch means
        self.loss_listener: Callable[[int, np.ndarray], None] | None = None
        # the epoch-end evaluation on one BLAS thread (beside a GUI); False: BLAS's own
        # choice, as the headless trainer has always evaluated (its figures depend on it)
        self.evaluation_one_blas_thread = True
        self.run_id = 0
        self.reset(config)

    # --- configuration ---

    def reset(self, config: SessionConfig | None = None, *, seed: int | None = None) -> None:
        """Start afresh: a new network (``config``, or the current one with the current η),
        optionally with another ``seed``; counters and history cleared, watches kept
        where the new shapes allow them."""
        if config is None:
            config = replace(self.config, eta=self.eta)
        if seed is not None:
            config = replace(config, seed=seed)
        config = check_config(config, self.dataset)
        watches = list(self.history.watches) if self.history is not None else []
        self.config = config
        self.network = make_network(config)
        self.eta = config.eta
        self.step = self.epoch = self.batch_in_epoch = 0
        self.batches_per_epoch = self.dataset.train_images.shape[0] // config.batch_size
        self.phases = phases_for(config.n_layers)
        self.history = History(self.eta)
        for key in watches:
            with suppress(ValueError):  # kept where the new shapes still have it
                self.history.add_watch(*check_weight(*key, config.sizes))
        self.last_eval = None
        self.run_id += 1
        self.message: str | None = None
        self.diverged = False
        self.divergence: tuple[int, str] | None = None  # (step that diverged, what happened)
        self._order = epoch_order(config.seed, 0, self.dataset.train_images.shape[0])
        self.clock = ComputeClock()  # the epoch's seconds of computing
        self.fast = FastPath(self)  # the trainer, checkpoints and divergence recovery
        self.clear_batch()

    def set_dataset(self, dataset: Dataset) -> None:
        """Train on ``dataset`` from now on: implies a reset (input and output layer sizes
        follow the data; watches are kept where they still fit)."""
        sizes = (dataset.n_inputs, *self.config.sizes[1:-1], dataset.n_classes)
        config = check_config(replace(self.config, sizes=sizes, eta=self.eta), dataset)
        self.dataset = dataset
        self.reset(config)

    def set_eta(self, eta: float) -> None:
        """Use η from the next update on (the current mini-batch's, if one is under way)."""
        eta = check_eta(eta)
        if eta != self.eta:
            self.eta = eta
            self.history.record_eta(self.step + 1, eta)

    def add_watch(self, l: int, i: int, j: int) -> None:
        """Record w_ij of W^l and ∂C/∂w_ij after every update from now on (ValueError if
        the network has no such weight: ``limits.check_weight``)."""
        self.history.add_watch(*check_weight(l, i, j, self.config.sizes))

    def remove_watch(self, l: int, i: int, j: int) -> None:
        """Stop recording w_ij of W^l (a weight not watched is ignored)."""
        self.history.remove_watch(l, i, j)

    def train_on(self, x: np.ndarray, labels: np.ndarray) -> float:
        """One extra update W ← W − η ∂C/∂W on examples from outside the data set (e.g. a
        digit the user drew): x ``(m, n_0)`` in [0, 1], labels ``(m,)``. A mini-batch under
        way is finished first. Not a step of the epoch and not in the loss history; returns
        C of the examples before the update. An update that is not finite is undone
        (ValueError)."""
        if 0 <= self._k < len(self.phases) - 1:
            self.step_batch()
        net, saved = self.network, self.network.parameters.copy()
        with np.errstate(all="ignore"):
            backward = net.backward(net.forward(x), np.asarray(labels, dtype=np.int64))
            net.apply(backward, self.eta)
        if not (np.isfinite(backward.loss) and all_finite((net.parameters,))):
            net.parameters[...] = saved
            raise ValueError(f"one step on these examples with η = {self.eta:g} diverged; undone")
        # replaying from an older checkpoint would lose this update: start from here
        self.fast.checkpoint()
        self.clear_batch()
        return float(backward.loss)

    # --- stepping ---

    @property
    def n_layers(self) -> int:
        """L."""
        return self.network.n_layers

    @property
    def phase(self) -> Phase | None:
        """The phase that ran last in the current mini-batch (None: none under way)."""
        return self.phases[self._k] if self._k >= 0 else None

    def step_phase(self) -> Snapshot:
        """Run the next phase (starting a new mini-batch after an update)."""
        with np.errstate(all="ignore"), self.clock.timed():
            self._next_phase()
        return self.snapshot()

    def step_batch(self) -> Snapshot:
        """Run the phases left in the current mini-batch (a whole one if none is under way),
        ending with its update, or where it diverges."""
        with np.errstate(all="ignore"), self.clock.timed():
            self._next_phase()
            while self._k >= 0 and self.phases[self._k].kind is not PhaseKind.UPDATE:
                self._next_phase()
        return self.snapshot()

    def run(
        self,
        max_steps: int,
        *,
        until: float | None = None,
        interrupt: threading.Event | None = None,
        trace_last: bool = False,
    ) -> int:
        """Train up to ``max_steps`` mini-batches at full speed; returns how many completed.

        Stops early once ``time.perf_counter() >= until``, once ``interrupt`` is set (both
        checked between mini-batches) or on divergence (``diverged`` set). A mini-batch
        under way from phase stepping is finished first, on the traced path. With
        ``trace_last``, the last mini-batch keeps its full trace (the fast path's buffers,
        bit-identical to the traced path), so that ``snapshot()`` shows it at its update.
        """
        done = 0
        if 0 <= self._k < len(self.phases) - 1 and max_steps > 0:
            step = self.step
            self.step_batch()
            done = self.step - step
            if self.diverged:
                return done
        self.fast.fast()  # made once (the training set as floats), outside the epoch's seconds
        with np.errstate(all="ignore"), self.clock.timed():
            traced = 1 if trace_last and done < max_steps else 0
            done += self.fast.train(max_steps - done - traced, until, interrupt)
            if traced and not self.diverged and not (interrupt and interrupt.is_set()):
                step = self.step
                self._traced_fast_step()
                done += self.step - step
        return done

    def _traced_fast_step(self) -> None:
        """One mini-batch on the fast path, kept as the traces of a completed mini-batch
        (what a publication while running shows)."""
        self.message, self.diverged = None, False
        before = self._params()
        traced = self.fast.traced_step()
        if traced is None:  # diverged: the fast path has recovered
            return
        self.clear_batch()
        self._batch = BatchTrace(*traced, before, self._params())
        self._k = len(self.phases) - 1
        self._record(self._batch.backward.loss, self._batch.backward.grad_w)

    # --- the phases (traced path) ---

    def clear_batch(self) -> None:
        """Forget the mini-batch under way (and the copy of the parameters: they change)."""
        self._k = -1
        self._batch: BatchTrace | None = None  # the mini-batch under way and its traces
        self._params_copy: Parameters | None = None

    def indices(self, k: int, count: int = 1) -> np.ndarray:
        """Training-set indices of mini-batches k … k + count − 1 of this epoch."""
        m = self.config.batch_size
        return self._order[k * m : (k + count) * m]

    def _examples(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """x, labels, y of mini-batch ``k`` of the current epoch (read-only)."""
        idx = self.indices(k)
        x = Dataset.to_float(self.dataset.train_images[idx], self.network.dtype)
        labels = self.dataset.train_labels[idx].astype(np.int64)
        y = one_hot(labels, self.config.sizes[-1], dtype=self.network.dtype)
        return frozen(x), frozen(labels), frozen(y)

    def _params(self) -> Parameters:
        """Read-only copies of the current (W^l), (b^l), made once per change."""
        if self._params_copy is None:
            self._params_copy = (
                frozen_copies(self.network.weights),
                frozen_copies(self.network.biases),
            )
        return self._params_copy

    def _next_phase(self) -> None:
        if self._k < 0 or self._k == len(self.phases) - 1:
            self.clear_batch()
            self._batch = BatchTrace.start(*self._examples(self.batch_in_epoch), self._params())
            self.diverged = False
            self.message = None
        self._k += 1
        phase = self.phases[self._k]
        self._batch, finite = run_phase(self.network, phase, self._batch, self.eta)
        if phase.kind is PhaseKind.UPDATE:
            self._params_copy = None  # the parameters changed
        if not finite:
            self.fast.recover()
        elif phase.kind is PhaseKind.UPDATE:
            self._batch = replace(self._batch, after=self._params())
            self._record(self._batch.backward.loss, self._batch.backward.grad_w)

    def advance(self, losses) -> None:
        """Count ``len(losses)`` completed updates with these losses (float64 ``(k,)``):
        step, position in the epoch, the loss history and the listener."""
        first = self.step + 1
        self.step += len(losses)
        self.batch_in_epoch += len(losses)
        self.history.loss.extend(losses)
        if self.loss_listener is not None:
            self.loss_listener(first, losses)

    def record_watches(self, grad_w) -> None:
        """Append each watched w_ij (after the update) and ∂C/∂w_ij of ``grad_w``."""
        for watch in self.history.watches.values():
            watch.w.append(self.network.weights[watch.l - 1][watch.i, watch.j])
            watch.grad.append(grad_w[watch.l - 1][watch.i, watch.j])

    def _record(self, loss: float, grad_w) -> None:
        """Bookkeeping after a traced update: step, loss, watches, epoch end, checkpoint."""
        self.advance(np.array([loss], np.float64))
        self.record_watches(grad_w)
        self.fast.boundary()

    def end_epoch(self) -> None:
        """The epoch is complete: evaluate it on the held-out set, then start the next one.

        The evaluation runs here, on the training thread, between two mini-batches. On a
        thread of its own it cost the training more than it costs here: each of its
        NumPy calls hands the GIL back and forth with the training thread, and the
        window needs the other core (measured in ``benchmarks/README.md``, "Session 6")."""
        metrics = evaluation.held_out(
            self.network,
            self.dataset,
            one_blas_thread=self.evaluation_one_blas_thread,
            epoch=self.epoch,
            step=self.step,
            train_loss=self.history.epoch_mean_loss(self.step - self.batches_per_epoch + 1),
            seconds=self.clock.seconds(),
        )
        self.history.record_epoch(metrics)
        self.last_eval = metrics
        self.epoch += 1
        self.batch_in_epoch = 0
        self.clock.restart()
        self._order = epoch_order(self.config.seed, self.epoch, self.dataset.train_images.shape[0])

    # --- session files (bpviz.files.checkpoint writes and reads these) ---

    def file_state(self) -> dict:
        """What a session file needs beyond the public attributes: the epoch's data
        ``order`` ``(n_train,)``, the divergence ``checkpoints`` ``[(step, parameters)]``,
        ``phases_run`` in the mini-batch under way (0: none, or its update has run) and
        the ``epoch_seconds`` so far."""
        k = self._k if self._k < len(self.phases) - 1 else -1
        return {
            "order": self._order,
            "checkpoints": list(self.fast.checkpoints),
            "phases_run": k + 1,
            "epoch_seconds": self.clock.seconds(),
        }

    def restore(self, config: SessionConfig, parameters: np.ndarray, **state) -> None:
        """Become a saved session; ``bpviz.files.checkpoint.open_session`` has checked
        every value. ``state``: ``eta``, ``step``, ``epoch``, ``batch_in_epoch``,
        ``history``, ``last_eval``, ``checkpoints``, ``epoch_seconds``, ``phases_run``.
        The phases of a mini-batch under way are replayed (they are deterministic)."""
        self.reset(config)
        self.network.parameters[...] = parameters
        self.eta, self.history, self.last_eval = state["eta"], state["history"], state["last_eval"]
        self.step, self.epoch = state["step"], state["epoch"]
        self.batch_in_epoch = state["batch_in_epoch"]
        self._order = epoch_order(config.seed, self.epoch, self.dataset.train_images.shape[0])
        self.fast.checkpoints = list(state["checkpoints"])
        self.clock.restart(state["epoch_seconds"])
        self._params_copy = None
        for _ in range(state["phases_run"]):
            self.step_phase()

    # --- what the views see ---

    def snapshot(self, *, running: bool = False) -> Snapshot:
        """The state now: after the last phase of the current mini-batch, or (phase None)
        between mini-batches, with x/labels/y of the next one. Read-only arrays."""
        k = self._k
        counters = Counters.of(self, self.history.view())
        if k < 0:
            batch = BatchTrace.start(*self._examples(self.batch_in_epoch), self._params())
            loss = self.history.loss.last
        else:
            batch = self._batch
            loss = batch.backward.loss
        return make_snapshot(
            config=self.config,
            phase=self.phases[k] if k >= 0 else None,
            phase_index=k,
            counters=counters,
            batch=batch,
            loss=loss,
            running=running,
            message=self.message,
        )
