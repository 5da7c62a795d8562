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
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import replace

import numpy as np

from bpviz.data.dataset import Dataset
from bpviz.engine import Network, one_hot
from bpviz.session import evaluation
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
from bpviz.session.snapshot import (
    EpochMetrics,
    Phase,
    PhaseKind,
    SessionConfig,
    Snapshot,
    phases_for,
)

__all__ = ["CHECKPOINT_EVERY", "ETA_MAX", "Session", "check_config", "check_eta", "epoch_order"]

DEFAULT_CONFIG = SessionConfig()  # the paper's 784-30-10, sigmoid, quadratic, η = 3, batch 10


def _frozen_copies(arrays) -> tuple[np.ndarray, ...]:
    out = tuple(np.array(a, copy=True) for a in arrays)
    for a in out:
        a.flags.writeable = False
    return out


class Session(FastPath):
    """A training run on ``dataset`` as configured by ``config`` (see the module doc).

    Attributes: ``config``, ``network``, ``dataset``, ``eta`` (η of the next update),
    ``step`` (completed updates), ``epoch`` (0-based), ``batch_in_epoch``,
    ``batches_per_epoch``, ``history``, ``last_eval``, ``message``, ``diverged``,
    ``divergence`` (the step that diverged and what happened, once one has).
    """

    def __init__(self, dataset: Dataset, config: SessionConfig = DEFAULT_CONFIG) -> None:
        self.dataset = dataset
        self.history: History | None = None
        # ``evaluator(job, run_id)`` runs an epoch-end evaluation elsewhere and later calls
        # ``record_epoch(job(), run_id)``; None: at once (the worker sets its own)
        self.evaluator: Callable[[Callable[[], EpochMetrics], int], None] | None = None
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
            if self._watch_fits(*key):
                self.history.add_watch(*key)
        self.last_eval = None
        self.run_id += 1
        self.message: str | None = None
        self.diverged = False
        self.divergence: tuple[int, str] | None = None  # (step that diverged, what happened)
        self._order = epoch_order(config.seed, 0, self.dataset.train_images.shape[0])
        self._epoch_seconds, self._since = 0.0, None
        self._trainer = None  # the engine's FastTrainer, made on the first fast run
        self._evaluation_network: Network | None = None
        self._chunk = 8  # mini-batches per FastTrainer call, adapted to the machine
        self._checkpoints = [(0, self.network.parameters.copy())]
        self._params_copy = None
        self._clear_batch()

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

    def _watch_fits(self, l: int, i: int, j: int) -> bool:
        if not all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in (l, i, j)):
            return False
        sizes = self.config.sizes
        return 1 <= l < len(sizes) and 0 <= i < sizes[l] and 0 <= j < sizes[l - 1]

    def add_watch(self, l: int, i: int, j: int) -> None:
        """Record w_ij of W^l and ∂C/∂w_ij after every update from now on."""
        if not self._watch_fits(l, i, j):
            shape = [tuple(w.shape) for w in self.network.weights]
            raise ValueError(f"no weight w_ij^l with (l, i, j) = {(l, i, j)}: W shapes {shape}")
        self.history.add_watch(int(l), int(i), int(j))

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
        self._params_copy = None
        if not (np.isfinite(backward.loss) and all_finite((net.parameters,))):
            net.parameters[...] = saved
            raise ValueError(f"one step on these examples with η = {self.eta:g} diverged; undone")
        # replaying from an older checkpoint would lose this update: start from here
        self._checkpoints = [*self._checkpoints[-1:], (self.step, self._copy_parameters())]
        self._clear_batch()
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
        with np.errstate(all="ignore"), self._timed():
            self._next_phase()
        return self.snapshot()

    def step_batch(self) -> Snapshot:
        """Run the phases left in the current mini-batch (a whole one if none is under way),
        ending with its update, or where it diverges."""
        with np.errstate(all="ignore"), self._timed():
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
        self._fast()  # made once (the training set as floats), outside the epoch's seconds
        with np.errstate(all="ignore"), self._timed():
            traced = 1 if trace_last and done < max_steps else 0
            done += self._train(max_steps - done - traced, until, interrupt)
            if traced and not self.diverged and not (interrupt and interrupt.is_set()):
                step = self.step
                self._traced_fast_step()
                done += self.step - step
        return done

    @contextmanager
    def _timed(self):
        """Count the time spent computing towards the epoch's ``seconds``."""
        self._since = time.perf_counter()
        try:
            yield
        finally:
            self._epoch_seconds += time.perf_counter() - self._since
            self._since = None

    def epoch_seconds(self) -> float:
        """Seconds spent computing in the current epoch (pauses not counted)."""
        running = time.perf_counter() - self._since if self._since is not None else 0.0
        return self._epoch_seconds + running

    # --- the phases (traced path) ---

    def _clear_batch(self) -> None:
        L = self.network.n_layers
        self._k = -1
        self._x = self._labels = self._y = self._loss = None
        self._z, self._dC_da, self._sp = [None] * L, [None] * L, [None] * L
        self._delta, self._gw, self._gb = [None] * L, [None] * L, [None] * L
        self._a = [None] * (L + 1)
        self._before = self._after = None

    def _batch(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """x, labels, y of mini-batch ``k`` of the current epoch (read-only)."""
        m = self.config.batch_size
        idx = self._order[k * m : (k + 1) * m]
        x = Dataset.to_float(self.dataset.train_images[idx], self.network.dtype)
        labels = self.dataset.train_labels[idx].astype(np.int64)
        y = one_hot(labels, self.config.sizes[-1], dtype=self.network.dtype)
        return _frozen_copies((x,))[0], _frozen_copies((labels,))[0], _frozen_copies((y,))[0]

    def _params(self) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
        """Read-only copies of the current (W^l), (b^l), made once per change."""
        if self._params_copy is None:
            self._params_copy = (
                _frozen_copies(self.network.weights),
                _frozen_copies(self.network.biases),
            )
        return self._params_copy

    def _next_phase(self) -> None:
        if self._k < 0 or self._k == len(self.phases) - 1:
            self._clear_batch()
            self._x, self._labels, self._y = self._batch(self.batch_in_epoch)
            self._a[0] = self._x
            self._before = self._params()
            self.diverged = False
            self.message = None
        self._k += 1
        phase = self.phases[self._k]
        net, L, l = self.network, self.network.n_layers, phase.layer
        if phase.kind is PhaseKind.FORWARD:
            self._z[l - 1], self._a[l] = net.forward_layer(l, self._a[l - 1])
            if not all_finite((self._a[l],)):  # overflowed: the loss cannot be finite
                self._recover()
        elif phase.kind is PhaseKind.COST:
            self._loss = net.cost_value(self._a[L], self._y)
            if not np.isfinite(self._loss):
                self._recover()
        elif phase.kind is PhaseKind.DELTA:
            if l == L:
                out = net.output_delta(self._z[L - 1], self._a[L], self._y)
            else:
                out = net.hidden_delta(l, self._delta[l], self._z[l - 1], self._a[l])
            self._dC_da[l - 1], self._sp[l - 1], self._delta[l - 1] = out
        elif phase.kind is PhaseKind.GRADIENT:
            grads = net.layer_gradients(l, self._delta[l - 1], self._a[l - 1])
            self._gw[l - 1], self._gb[l - 1] = grads
        else:
            net.apply_deltas(self._delta, self._a, self.eta)  # as the fast path: bit-identical
            self._params_copy = None
            if not all_finite((net.parameters,)):
                self._recover()
                return
            self._after = self._params()
            self._record(self._loss, self._gw)

    def _record(self, loss: float, grad_w) -> None:
        """Bookkeeping after a traced update: step, loss, watches, epoch end, checkpoint."""
        self.step += 1
        self.batch_in_epoch += 1
        self.history.loss.append(loss)
        if self.loss_listener is not None:
            self.loss_listener(self.step, np.array([loss], np.float64))
        for watch in self.history.watches.values():
            watch.w.append(self.network.weights[watch.l - 1][watch.i, watch.j])
            watch.grad.append(grad_w[watch.l - 1][watch.i, watch.j])
        self._boundary()

    def _end_epoch(self) -> None:
        job = evaluation.epoch_job(self)
        if self.evaluator is None:
            self.record_epoch(job(), self.run_id)
        else:
            self.evaluator(job, self.run_id)
        self.epoch += 1
        self.batch_in_epoch = 0
        self._epoch_seconds = 0.0
        if self._since is not None:
            self._since = time.perf_counter()
        self._order = epoch_order(self.config.seed, self.epoch, self.dataset.train_images.shape[0])
        self._checkpoints = [(self.step, self._copy_parameters())]

    def evaluation_network(self) -> Network:
        """A second network of this run's shape for the epoch-end evaluations (made once:
        its random initialisation is not free); only the evaluations write to it, one
        after another."""
        if self._evaluation_network is None:
            self._evaluation_network = make_network(self.config)
        return self._evaluation_network

    def record_epoch(self, metrics: EpochMetrics, run_id: int) -> None:
        """Add the held-out metrics of an epoch of run ``run_id`` (ignored after a reset)."""
        if run_id == self.run_id:
            self.history.record_epoch(metrics)
            self.last_eval = metrics

    # --- session files (bpviz.files.checkpoint writes and reads these) ---

    def file_state(self) -> dict:
        """What a session file needs beyond the public attributes: the epoch's data
        ``order`` ``(n_train,)``, the divergence ``checkpoints`` ``[(step, parameters)]``,
        ``phases_run`` in the mini-batch under way (0: none, or its update has run) and
        the ``epoch_seconds`` so far."""
        k = self._k if self._k < len(self.phases) - 1 else -1
        return {
            "order": self._order,
            "checkpoints": list(self._checkpoints),
            "phases_run": k + 1,
            "epoch_seconds": self.epoch_seconds(),
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
        self._checkpoints = list(state["checkpoints"])
        self._epoch_seconds = float(state["epoch_seconds"])
        self._params_copy = None
        for _ in range(state["phases_run"]):
            self.step_phase()

    # --- what the views see ---

    def snapshot(self, *, running: bool = False) -> Snapshot:
        """The state now: after the last phase of the current mini-batch, or (phase None)
        between mini-batches, with x/labels/y of the next one. Read-only arrays."""
        L, k = self.network.n_layers, self._k
        phase = self.phases[k] if k >= 0 else None
        nothing = (None,) * L
        if phase is None:
            weights, biases = self._params()
            x, labels, y = self._batch(self.batch_in_epoch)
            trace = dict(a=(x, *nothing), z=nothing, dC_da=nothing, sigma_prime=nothing)
            trace.update(delta=nothing, grad_w=nothing, grad_b=nothing)
            before = (weights, biases)
        else:
            before = self._before
            weights, biases = self._after if self._after is not None else before
            x, labels, y = self._x, self._labels, self._y
            trace = dict(a=tuple(self._a), z=tuple(self._z), dC_da=tuple(self._dC_da))
            trace.update(sigma_prime=tuple(self._sp), delta=tuple(self._delta))
            trace.update(grad_w=tuple(self._gw), grad_b=tuple(self._gb))
        return Snapshot(
            config=self.config,
            phase=phase,
            phase_index=k,
            step=self.step,
            epoch=self.epoch,
            batch_in_epoch=self.batch_in_epoch,
            batches_per_epoch=self.batches_per_epoch,
            eta=self.eta,
            weights=weights,
            biases=biases,
            weights_before=before[0],
            biases_before=before[1],
            x=x,
            labels=labels,
            y=y,
            loss=self._loss if phase is not None else self.history.loss.last,
            history=self.history.view(),
            last_eval=self.last_eval,
            running=running,
            message=self.message,
            **trace,
        )
