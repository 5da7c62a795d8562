"""Full speed and its safety net: the fast training loop, checkpoints, divergence recovery.

``FastPath`` is the object a ``Session`` owns to train without traces: the engine's
``FastTrainer`` runs stretches of about ``CHUNK_SECONDS`` of mini-batches (bit-identical
parameters to the traced path), and the loop keeps only what the history needs (a float
per step; with watched weights, one mini-batch at a time and their ∂C/∂w_ij). Every
``CHECKPOINT_EVERY`` steps, and at every epoch end, the parameters are checked finite and
copied; on divergence the session goes back to a checkpoint and replays the
(deterministic) steps since, to the parameters from which the last finite loss was
computed — so a lower η can carry on from there.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Protocol

import numpy as np

from bpviz.data.dataset import Dataset
from bpviz.engine import FastTrainer, one_hot
from bpviz.engine.network import BackwardTrace, ForwardTrace, Network
from bpviz.engine.validation import frozen
from bpviz.session.config import all_finite
from bpviz.session.history import History
from bpviz.session.snapshot import SessionConfig


class TrainingState(Protocol):
    """What the fast path reads and moves of the session that owns it (``Session``)."""

    config: SessionConfig
    network: Network
    dataset: Dataset
    history: History
    eta: float
    step: int
    epoch: int
    batch_in_epoch: int
    batches_per_epoch: int
    message: str | None
    diverged: bool
    divergence: tuple[int, str] | None

    def advance(self, losses: np.ndarray) -> None: ...
    def record_watches(self, grad_w) -> None: ...
    def clear_batch(self) -> None: ...
    def end_epoch(self) -> None: ...
    def indices(self, k: int, count: int = 1) -> np.ndarray: ...


CHECKPOINT_EVERY = 256  # steps between checkpoints of finite parameters
CHUNK_SECONDS = 0.003  # each engine call trains for about this much CPU time (not wall
MAX_CHUNK = 256  # time: a busy machine must not shrink it) between looks at the clock, and
# for at most this many mini-batches; the interrupt (a pause) ends it after any mini-batch


def loss_problem(loss: float) -> str:
    """What a loss that is not finite means, in words."""
    return "the loss became NaN" if math.isnan(loss) else "the loss became infinite"


class FastPath:
    """The full-speed loop, checkpoints and divergence recovery of one ``Session``.

    It owns the engine's ``FastTrainer`` (made when first needed: the training set as
    floats), the adaptive number of mini-batches a trainer call (``chunk``) and the
    ``checkpoints`` ``[(step, parameters)]`` of finite parameters. It reads the session's
    network, data, η and history, and moves its counters through ``Session.advance``;
    a new one is made on every reset.
    """

    def __init__(self, session: TrainingState) -> None:
        self.session = session
        self.trainer: FastTrainer | None = None
        self.chunk = 8  # mini-batches per FastTrainer call, adapted to the machine
        self.checkpoints = [(0, session.network.parameters.copy())]

    def fast(self) -> FastTrainer:
        """The engine's fast trainer on this network and training set (made when needed)."""
        if self.trainer is None:
            s = self.session
            data = s.dataset
            self.trainer = FastTrainer(
                s.network, data.train_images, data.train_labels, s.config.batch_size
            )
        return self.trainer

    def train(self, n: int, until: float | None, interrupt: threading.Event | None) -> int:
        """Up to ``n`` steps without traces; bookkeeping per stretch. Returns steps done."""
        if n <= 0:
            return 0
        s = self.session
        s.clear_batch()
        s.message, s.diverged = None, False
        trainer, watched = self.fast(), bool(s.history.watches)
        stop = interrupt.is_set if interrupt is not None else None
        clock, cpu_clock, done = time.perf_counter, time.thread_time, 0
        boundary = self._next_boundary()
        while done < n:
            if watched:  # one at a time: the watch needs each step's ∂C/∂w_ij
                batch_losses = (trainer.step(s.indices(s.batch_in_epoch), s.eta),)
            else:
                count = min(self.chunk, n - done, boundary - s.step)
                started = cpu_clock()
                order = s.indices(s.batch_in_epoch, count)
                batch_losses = trainer.train_epoch(order, s.eta, stop)  # a pause: at once
                if len(batch_losses) == count == self.chunk:  # aim at CHUNK_SECONDS of CPU
                    proposed = count * CHUNK_SECONDS / max(cpu_clock() - started, 1e-6)
                    self.chunk = int(min(max((count + proposed) / 2, 1), MAX_CHUNK))
            good = len(batch_losses)
            if not math.isfinite(batch_losses[-1]):
                good -= 1
            if good:
                if watched:
                    self._record_watches()
                s.advance(batch_losses[:good])
            done += good
            if good < len(batch_losses):
                self.recover()
                break
            if s.step >= boundary:
                if not self.boundary():
                    break
                boundary = self._next_boundary()
            if interrupt is not None and interrupt.is_set():
                break
            if until is not None and clock() >= until:
                break
        return done

    def traced_step(self) -> tuple[np.ndarray, np.ndarray, ForwardTrace, BackwardTrace] | None:
        """One mini-batch on the fast path, returned as its labels, one-hot targets y and
        the traces of a completed mini-batch (read-only copies of the trainer's
        buffers); None if it diverged (then the session has recovered). The
        session's counters are not moved: the caller records the step."""
        s = self.session
        trainer = self.fast()
        loss = trainer.step(s.indices(s.batch_in_epoch), s.eta)
        if not math.isfinite(loss):
            self.recover()
            return None
        forward, backward = trainer.traces()
        labels = frozen(s.dataset.train_labels[trainer.last.indices].astype(np.int64))
        y = frozen(one_hot(labels, s.config.sizes[-1], dtype=s.network.dtype))
        return labels, y, forward, backward

    def _record_watches(self) -> None:
        """Append w_ij (after the update) and ∂C/∂w_ij of the fast path's last step."""
        self.session.record_watches(self.fast().gradients()[0])

    def _next_boundary(self) -> int:
        """The step after which ``boundary`` is due: epoch end or next checkpoint."""
        s = self.session
        epoch_end = s.step - s.batch_in_epoch + s.batches_per_epoch
        return min(epoch_end, self.checkpoints[-1][0] + CHECKPOINT_EVERY)

    def boundary(self) -> bool:
        """After a step: end the epoch or take a checkpoint when due. False if the
        parameters turned out not finite (then the session has recovered)."""
        s = self.session
        epoch_end = s.batch_in_epoch == s.batches_per_epoch
        if not epoch_end and s.step - self.checkpoints[-1][0] < CHECKPOINT_EVERY:
            return True
        if not all_finite((s.network.parameters,)):
            self.recover()
            return False
        if epoch_end:
            s.end_epoch()  # evaluates; the next epoch starts with a checkpoint of its own
            self.checkpoints = [(s.step, s.network.parameters.copy())]
        else:
            self.checkpoint()
        return True

    def checkpoint(self) -> None:
        """Keep the current parameters as the newest checkpoint (and the one before)."""
        s = self.session
        self.checkpoints = [*self.checkpoints[-1:], (s.step, s.network.parameters.copy())]

    def _restore(self, step: int, saved: np.ndarray) -> None:
        """Back to the checkpoint of ``step`` (same epoch): parameters, counters, history."""
        s = self.session
        s.network.parameters[...] = saved
        s.batch_in_epoch -= s.step - step
        s.step = step
        s.history.truncate(step)
        s.clear_batch()

    def _replay(self, etas: list[tuple[int, float]]) -> float:
        """Run the next step again on the fast path with the η it used; its loss."""
        s = self.session
        eta = next(e for step, e in reversed(etas) if step <= s.step + 1)
        return self.fast().step(s.indices(s.batch_in_epoch), eta)

    def _record_replayed(self, loss: float) -> None:
        self.session.advance(np.array([loss], np.float64))
        if self.session.history.watches:
            self._record_watches()

    def recover(self) -> None:
        """Diverged at step ``step + 1`` (or earlier, unnoticed until a check).

        Replays from the newest checkpoint to find the first bad step, then settles on the
        parameters from which the last finite loss was computed (never before the epoch's
        start), and pauses with a message.
        """
        s = self.session
        bad_step, epoch_start = s.step + 1, s.step - s.batch_in_epoch
        etas = list(s.history.eta_changes)
        self._restore(*self.checkpoints[-1])
        what, target = "training became unstable", bad_step - 1
        while s.step < bad_step and s.batch_in_epoch < s.batches_per_epoch:
            loss = self._replay(etas)
            if not math.isfinite(loss):  # computed from the parameters of step - 1
                what, target = loss_problem(loss), s.step - 1
                break
            if not all_finite((s.network.parameters,)):
                bad_step = s.step + 1
                what, target = "an update made a parameter infinite or NaN", s.step
                break
            self._record_replayed(loss)
        target = max(target, epoch_start)
        self.checkpoints = [c for c in self.checkpoints if c[0] <= target]
        self._restore(*self.checkpoints[-1])
        while s.step < target:
            self._record_replayed(self._replay(etas))
        s.history.truncate_eta(target, s.eta)
        s.clear_batch()
        s.diverged = True
        s.divergence = (bad_step, what)
        s.message = (
            f"Training diverged at step {bad_step} (epoch {s.epoch + 1}): {what} with "
            f"η = {s.eta:g}. Went back to the parameters after step {s.step}, from "
            "which the last finite loss was computed, and paused. Lower η and run again, "
            "or reset."
        )
