"""Full speed and its safety net: the fast training loop, checkpoints, divergence recovery.

``FastPath`` is the part of ``Session`` that trains without traces: the engine's
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

import numpy as np

from bpviz.engine import FastTrainer, one_hot
from bpviz.session.config import all_finite

CHECKPOINT_EVERY = 256  # steps between checkpoints of finite parameters
CHUNK_SECONDS = 0.003  # each engine call trains for about this much CPU time (not wall
MAX_CHUNK = 256  # time: a busy machine must not shrink it) between looks at the clock and
# the interrupt, and for at most this many mini-batches


def loss_problem(loss: float) -> str:
    return "the loss became NaN" if math.isnan(loss) else "the loss became infinite"


class FastPath:
    """Mixin of ``Session``: the full-speed loop, checkpoints and recovery."""

    def _fast(self) -> FastTrainer:
        """The engine's fast trainer on this network and training set (made when needed)."""
        if self._trainer is None:
            data = self.dataset
            self._trainer = FastTrainer(
                self.network, data.train_images, data.train_labels, self.config.batch_size
            )
        return self._trainer

    def _train(self, n: int, until: float | None, interrupt: threading.Event | None) -> int:
        """Up to ``n`` steps without traces; bookkeeping per stretch. Returns steps done."""
        if n <= 0:
            return 0
        self._clear_batch()
        self._params_copy = None
        self.message, self.diverged = None, False
        trainer, losses, m = self._fast(), self.history.loss, self.config.batch_size
        watched = bool(self.history.watches)
        clock, cpu_clock, done = time.perf_counter, time.thread_time, 0
        boundary = self._next_boundary()
        while done < n:
            k = self.batch_in_epoch
            if watched:  # one at a time: the watch needs each step's ∂C/∂w_ij
                batch_losses = (trainer.step(self._order[k * m : (k + 1) * m], self.eta),)
            else:
                count = min(self._chunk, n - done, boundary - self.step)
                started = cpu_clock()
                batch_losses = trainer.train_epoch(self._order[k * m : (k + count) * m], self.eta)
                if count == self._chunk:  # aim at CHUNK_SECONDS of CPU a call, smoothly
                    proposed = count * CHUNK_SECONDS / max(cpu_clock() - started, 1e-6)
                    self._chunk = int(min(max((count + proposed) / 2, 1), MAX_CHUNK))
            good = len(batch_losses)
            if not math.isfinite(batch_losses[-1]):
                good -= 1
            if watched and good:
                self._record_watches()
            losses.extend(batch_losses[:good])
            if self.loss_listener is not None and good:
                self.loss_listener(self.step + 1, batch_losses[:good])
            self.step += good
            self.batch_in_epoch = k + good
            done += good
            if good < len(batch_losses):
                self._recover()
                break
            if self.step >= boundary:
                if not self._boundary():
                    break
                boundary = self._next_boundary()
            if interrupt is not None and interrupt.is_set():
                break
            if until is not None and clock() >= until:
                break
        return done

    def _traced_fast_step(self) -> None:
        """One mini-batch on the fast path, kept as the trace of a completed mini-batch
        (copies of the trainer's buffers: what a publication while running shows)."""
        self.message, self.diverged = None, False
        before = self._params()
        k, m = self.batch_in_epoch, self.config.batch_size
        trainer = self._fast()
        loss = trainer.step(self._order[k * m : (k + 1) * m], self.eta)
        if not math.isfinite(loss):
            self._recover()
            return
        forward, backward = trainer.traces()
        self._clear_batch()
        self._before = before
        self._params_copy = None
        self._after = self._params()
        labels = self.dataset.train_labels[trainer.last.indices].astype(np.int64)
        self._x, self._labels = forward.a[0], labels
        self._y = one_hot(labels, self.config.sizes[-1], dtype=self.network.dtype)
        self._labels.flags.writeable = self._y.flags.writeable = False
        self._z, self._a = list(forward.z), list(forward.a)
        self._dC_da, self._sp = list(backward.dC_da), list(backward.sigma_prime)
        self._delta, self._gw, self._gb = (
            list(backward.delta),
            list(backward.grad_w),
            list(backward.grad_b),
        )
        self._loss = loss
        self._k = len(self.phases) - 1
        self._record(loss, backward.grad_w)

    def _record_watches(self) -> None:
        """Append w_ij (after the update) and ∂C/∂w_ij of the fast path's last step."""
        grad_w = self._fast().gradients()[0]
        weights = self.network.weights
        for watch in self.history.watches.values():
            watch.w.append(weights[watch.l - 1][watch.i, watch.j])
            watch.grad.append(grad_w[watch.l - 1][watch.i, watch.j])

    def _next_boundary(self) -> int:
        """The step after which ``_boundary`` is due: epoch end or next checkpoint."""
        epoch_end = self.step - self.batch_in_epoch + self.batches_per_epoch
        return min(epoch_end, self._checkpoints[-1][0] + CHECKPOINT_EVERY)

    def _boundary(self) -> bool:
        """After a step: end the epoch or take a checkpoint when due. False if the
        parameters turned out not finite (then the session has recovered)."""
        epoch_end = self.batch_in_epoch == self.batches_per_epoch
        if not epoch_end and self.step - self._checkpoints[-1][0] < CHECKPOINT_EVERY:
            return True
        if not all_finite((self.network.parameters,)):
            self._recover()
            return False
        if epoch_end:
            self._end_epoch()  # evaluates and starts the checkpoints afresh
        else:
            self._checkpoints = [*self._checkpoints[-1:], (self.step, self._copy_parameters())]
        return True

    def _copy_parameters(self) -> np.ndarray:
        return self.network.parameters.copy()

    def _restore(self, step: int, saved: np.ndarray) -> None:
        """Back to the checkpoint of ``step`` (same epoch): parameters, counters, history."""
        self.network.parameters[...] = saved
        self.batch_in_epoch -= self.step - step
        self.step = step
        self.history.truncate(step)
        self._params_copy = None

    def _replay(self, etas: list[tuple[int, float]]) -> float:
        """Run the next step again on the fast path with the η it used; its loss."""
        k, m = self.batch_in_epoch, self.config.batch_size
        eta = next(e for s, e in reversed(etas) if s <= self.step + 1)
        return self._fast().step(self._order[k * m : (k + 1) * m], eta)

    def _record_replayed(self, loss: float) -> None:
        self.step += 1
        self.batch_in_epoch += 1
        self.history.loss.append(loss)
        if self.loss_listener is not None:
            self.loss_listener(self.step, np.array([loss], np.float64))
        if self.history.watches:
            self._record_watches()

    def _recover(self) -> None:
        """Diverged at step ``self.step + 1`` (or earlier, unnoticed until a check).

        Replays from the newest checkpoint to find the first bad step, then settles on the
        parameters from which the last finite loss was computed (never before the epoch's
        start), and pauses with a message.
        """
        bad_step, epoch_start = self.step + 1, self.step - self.batch_in_epoch
        etas = list(self.history.eta_changes)
        self._restore(*self._checkpoints[-1])
        what, target = "training became unstable", bad_step - 1
        while self.step < bad_step and self.batch_in_epoch < self.batches_per_epoch:
            loss = self._replay(etas)
            if not math.isfinite(loss):  # computed from the parameters of step - 1
                what, target = loss_problem(loss), self.step - 1
                break
            if not all_finite((self.network.parameters,)):
                bad_step = self.step + 1
                what, target = "an update made a parameter infinite or NaN", self.step
                break
            self._record_replayed(loss)
        target = max(target, epoch_start)
        self._checkpoints = [c for c in self._checkpoints if c[0] <= target]
        self._restore(*self._checkpoints[-1])
        while self.step < target:
            self._record_replayed(self._replay(etas))
        self.history.truncate_eta(target, self.eta)
        self._clear_batch()
        self.diverged = True
        self.divergence = (bad_step, what)
        self.message = (
            f"Training diverged at step {bad_step} (epoch {self.epoch + 1}): {what} with "
            f"η = {self.eta:g}. Went back to the parameters after step {self.step}, from "
            "which the last finite loss was computed, and paused. Lower η and run again, "
            "or reset."
        )
