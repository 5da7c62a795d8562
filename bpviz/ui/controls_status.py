"""The status bar: data source, epoch, step, phase, loss, test accuracy, steps/s, η."""

from __future__ import annotations

import time
from collections import deque

from PySide6.QtWidgets import QLabel, QStatusBar

from bpviz.notation import unicode_math
from bpviz.session.snapshot import Snapshot

PERIOD = 0.25  # seconds between two refreshes while training runs
WIDEST = {  # text as wide as each field gets, so the bar does not jitter
    "epoch": "epoch 888 · 6000/6000",
    "step": "step 8,888,888",
    "phase": "phase: forward l=8",
    "loss": "C = 0.8888",
    "accuracy": "test acc 88.88%",
    "rate": "88,888 steps/s",
    "eta": "η = 0.00888",
}
FIELDS = {
    "source": "The training data: the embedded sample, the full MNIST or a folder of IDX files",
    "epoch": "Epoch: passes over the training set so far (counted from 1)",
    "step": "Steps: mini-batch updates W ← W − η ∂C/∂W since reset",
    "phase": "The phase of backpropagation just computed (forward, cost, δˡ, ∂C/∂Wˡ, update)",
    "loss": "C, the cost of the current mini-batch (mean over its m examples)",
    "accuracy": "Test accuracy on the held-out images after the last completed epoch",
    "rate": "Training speed: mini-batch updates per second",
    "eta": "η, the learning rate the next update uses",
}


class TrainingStatus:
    """Permanent labels in ``bar``, refreshed from snapshots (cheap: text only)."""

    def __init__(self, bar: QStatusBar) -> None:
        self.labels: dict[str, QLabel] = {}
        for key, tip in FIELDS.items():
            label = QLabel()
            label.setObjectName(f"status_{key}")
            label.setToolTip(tip)
            if key in WIDEST:
                label.setMinimumWidth(label.fontMetrics().horizontalAdvance(WIDEST[key]) + 4)
            bar.addPermanentWidget(label)
            self.labels[key] = label
        self._steps: deque[tuple[float, int]] = deque(maxlen=64)
        self.steps_per_second = 0.0
        self._shown_at = 0.0
        self._running = False  # whether the last snapshot shown was running
        self._phase_index = -2  # the phase of the last snapshot shown (-1: none)

    def set_source(self, description: str) -> None:
        """Show which data set is in use (elided; the full text is in the tooltip)."""
        label = self.labels["source"]
        short = description.split(" (")[0]  # e.g. "embedded MNIST sample"; details in the tip
        label.setText(short if len(short) <= 32 else short[:31] + "…")
        label.setToolTip(f"{FIELDS['source']}\n{description}")

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Refresh every field from ``snapshot``; while running at most every
        ``PERIOD`` seconds (numbers changing 40 times a second cannot be read, and each
        change relays out the bar)."""
        now = time.monotonic()
        same_phase = snapshot.phase_index == self._phase_index
        if snapshot.running and self._running and same_phase and now - self._shown_at < PERIOD:
            return  # (a run that starts or stops, or a phase played, is shown at once)
        self._shown_at, self._running = now, snapshot.running
        self._phase_index = snapshot.phase_index
        self._steps.append((now, snapshot.step))
        while len(self._steps) > 2 and now - self._steps[0][0] > 2.0:
            self._steps.popleft()
        (t0, s0), (t1, s1) = self._steps[0], self._steps[-1]
        self.steps_per_second = (s1 - s0) / (t1 - t0) if t1 > t0 and s1 >= s0 else 0.0
        batches = max(snapshot.batches_per_epoch, 1)
        text = {
            "epoch": f"epoch {snapshot.epoch + 1:,} · {snapshot.batch_in_epoch:,}/{batches:,}",
            "step": f"step {snapshot.step:,}",
            "phase": f"phase: {unicode_math(snapshot.phase.label) if snapshot.phase else 'ready'}",
            "loss": "C = —" if snapshot.loss is None else f"C = {snapshot.loss:.4f}",
            "accuracy": (
                "test acc —"
                if snapshot.last_eval is None
                else f"test acc {100 * snapshot.last_eval.test_accuracy:.2f}%"
            ),
            "rate": f"{self.steps_per_second:,.0f} steps/s" if snapshot.running else "paused",
            "eta": f"η = {snapshot.eta:g}",
        }
        for key, value in text.items():
            label = self.labels[key]
            if label.text() != value:
                label.setText(value)
