"""A pause asked during a fast stretch is answered after the mini-batch under way, not
after the whole stretch (the engine asks ``stop()`` after every mini-batch)."""

from __future__ import annotations

import threading

import numpy as np
from test_engine_fast import digits, traced_run

from bpviz.data import load_sample
from bpviz.engine import FastTrainer, Network
from bpviz.session.session import Session
from bpviz.session.snapshot import SessionConfig


def test_train_epoch_stops_after_the_mini_batch_during_which_stop_came_true():
    images, labels = digits(200)
    net = Network([784, 20, 10], seed=2)
    reference = net.copy()
    asked = []

    def stop() -> bool:
        asked.append(len(asked))
        return len(asked) == 3  # true while the third mini-batch is under way

    losses = FastTrainer(net, images, labels, batch_size=10).train_epoch(np.arange(200), 3.0, stop)
    assert len(losses) == 3 and len(asked) == 3
    expected = traced_run(reference, images, labels, np.arange(30), 10, 3.0)
    np.testing.assert_array_equal(losses, expected)  # the same three steps, bit for bit
    np.testing.assert_array_equal(net.parameters, reference.parameters)


def test_a_session_run_interrupted_from_the_start_trains_one_mini_batch():
    session = Session(load_sample(), SessionConfig())
    interrupt = threading.Event()
    interrupt.set()  # a pause already waiting: the worker must answer it at once
    assert session.run(1_000_000, interrupt=interrupt) == 1
    assert session.step == 1
