"""The headless trainer's loop: a ``Session`` run epoch by epoch, without a window.

The window and ``python -m bpviz train`` train through the same ``Session``: the same
seeded order per epoch, the same fast path, the same divergence recovery and the same
session files. This module only decides how far to run between reports (epoch ends and
``--snapshot-every`` steps) and prints them: with ``--json`` one JSON object a line,
otherwise one readable line per epoch.

``train_loss`` is the mean of the epoch's float64 losses as the engine computed them
(``Session.loss_listener``; the session's history keeps them as float32), so a seed prints
the same bytes as the trainer did before it ran a session. An epoch begun before a
``--resume`` reports the session's own mean of its history.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable

import numpy as np

from bpviz.notation import unicode_math  # the window's one notation (Qt-free, below both)
from bpviz.session.diagnosis import Diagnosis, diagnose_session
from bpviz.session.session import Session
from bpviz.session.snapshot import EpochMetrics


class EpochLosses:
    """The float64 loss of every step of the epoch under way, ``(batches_per_epoch,)``."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.begin()

    def begin(self) -> None:
        """Start the epoch the session is in (whole if none of its steps is done yet)."""
        s = self.session
        self.first_step = s.step - s.batch_in_epoch + 1
        self.values = np.full(s.batches_per_epoch, np.nan)
        self.whole = s.batch_in_epoch == 0

    def __call__(self, first_step: int, losses: np.ndarray) -> None:
        """``Session.loss_listener``: steps ``first_step …`` had these losses."""
        k = first_step - self.first_step
        self.values[k : k + len(losses)] = losses

    def mean(self, metrics: EpochMetrics) -> float:
        """The epoch's training loss: the engine's losses' mean (the session's, for an
        epoch begun before this run)."""
        return float(np.mean(self.values)) if self.whole else metrics.train_loss


def report_line(session: Session, metrics: EpochMetrics, train_loss: float, as_json: bool) -> str:
    """One epoch's report: a JSON object (``epoch`` 1-based, ``steps``, ``train_loss``,
    ``test_loss``, ``test_accuracy``, ``eta``, ``seconds``, ``confusion`` k×k,
    ``per_class_accuracy`` k, null for a class without examples) or a readable line."""
    if as_json:
        return json.dumps(
            {
                "epoch": metrics.epoch + 1,
                "steps": metrics.step,
                "train_loss": train_loss,
                "test_loss": metrics.test_loss,
                "test_accuracy": metrics.test_accuracy,
                "eta": session.eta,
                "seconds": round(metrics.seconds, 4),
                "confusion": metrics.confusion.tolist(),
                "per_class_accuracy": [
                    None if math.isnan(v) else float(v) for v in metrics.per_class_accuracy
                ],
            }
        )
    right, n = int(np.trace(metrics.confusion)), int(metrics.confusion.sum())
    return (
        f"epoch {metrics.epoch + 1}: test accuracy {metrics.test_accuracy:.2%} ({right}/{n}), "
        f"test loss {metrics.test_loss:.4f}, train loss {train_loss:.4f}, "
        f"{metrics.seconds:.2f} s"
    )


def stuck_note(diagnosis: Diagnosis) -> str:
    """The stuck diagnosis as ``bpviz train`` says it: three lines, Unicode maths."""
    return "\n".join(f"note: {unicode_math(part)}" for part in diagnosis.text.split("\n"))


def train_epochs(
    session: Session,
    epochs: int,
    report: Callable[[EpochMetrics, float], None],
    *,
    snapshot_every: int | None = None,
    snapshot: Callable[[Session], None] | None = None,
) -> bool:
    """Train ``epochs`` more epochs (a partly done one counts as the first), calling
    ``report(metrics, train_loss)`` at each epoch end and ``snapshot(session)`` after
    every step whose number is a multiple of ``snapshot_every`` (that step's full trace,
    bit-identical training). False if training diverged (the session has gone back to
    the last finite parameters), True otherwise."""
    losses = EpochLosses(session)
    session.loss_listener = losses
    try:
        end = session.epoch + epochs
        while session.epoch < end:
            epoch = session.epoch
            left = session.batches_per_epoch - session.batch_in_epoch
            to_snapshot = snapshot_every - session.step % snapshot_every if snapshot_every else 0
            if snapshot is not None and 0 < to_snapshot <= left:
                session.run(to_snapshot - 1)
                if not session.diverged:
                    session.run(1, trace_last=True)
                if session.diverged:
                    return False
                snapshot(session)
            else:
                session.run(left)
                if session.diverged:
                    return False
            if session.epoch > epoch:
                metrics = session.last_eval
                report(metrics, losses.mean(metrics))
                losses.begin()
        return True
    finally:
        session.loss_listener = None


def run(args, net, data, description: str, extras) -> int:
    """Train ``net``'s configuration on ``data`` as the flags say (``extras``:
    ``bpviz.cli.train_extras.TrainExtras``, which knows ``--resume``'s file). The exit
    status: 0, 1 (a file error, or divergence: with ``--save`` the last good state is
    saved all the same) or 2 (a configuration the session refuses)."""
    from bpviz.files.checkpoint import CheckpointError

    try:
        session = extras.session(net, data, description)
    except ValueError as error:  # a file that does not fit (a CheckpointError), or a config
        print(f"error: {error}", file=sys.stderr)
        return 1 if isinstance(error, CheckpointError) else 2

    said_stuck = []  # the stuck diagnosis is said once, on stderr: stdout stays the same

    def report(metrics: EpochMetrics, train_loss: float) -> None:
        print(report_line(session, metrics, train_loss, args.json), flush=True)
        if not said_stuck and (stuck := diagnose_session(session)) is not None:
            said_stuck.append(stuck)
            print(stuck_note(stuck), file=sys.stderr, flush=True)

    try:
        finished = train_epochs(
            session,
            args.epochs,
            report,
            snapshot_every=args.snapshot_every,
            snapshot=extras.snapshot if args.snapshot_every else None,
        )
        if not finished:
            bad_step, what = session.divergence
            print(
                f"error: diverged in epoch {session.epoch + 1} at step {bad_step}: {what} "
                f"with η = {session.eta:g}; try a smaller --eta",
                file=sys.stderr,
            )
        if args.save:
            extras.save(session)
            if finished:
                print(f"saved: {args.save}", file=sys.stderr, flush=True)
            else:
                print(
                    f"saved: {args.save} holds the last good state, after step {session.step} "
                    "(the parameters the last finite loss came from); resume it with a "
                    "smaller --eta",
                    file=sys.stderr,
                    flush=True,
                )
    except CheckpointError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        extras.close()
    return 0 if finished else 1
