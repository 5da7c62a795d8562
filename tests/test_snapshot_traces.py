"""One trace type end to end: a Snapshot holds the engine's ForwardTrace/BackwardTrace,
and every producer (session, probe, CLI) builds it through ``make_snapshot``."""

from __future__ import annotations

import ast
from dataclasses import fields, is_dataclass
from pathlib import Path

import numpy as np
import pytest

from bpviz.engine.network import BackwardTrace, ForwardTrace
from bpviz.session.config import make_network
from bpviz.session.probe import probe
from bpviz.session.session import Session
from bpviz.session.snapshot import BatchTrace, Counters, make_snapshot
from tests.test_session import config_for, make_dataset

BPVIZ = Path(__file__).resolve().parents[1] / "bpviz"


def calls_in(path: Path) -> list[tuple[str, str]]:
    """(enclosing function, called name) of every call in a module."""
    found = []

    def visit(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef) else where
            if isinstance(child, ast.Call):
                func = child.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                found.append((where, name))
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), "<module>")
    return found


def test_make_snapshot_is_the_only_place_a_snapshot_is_constructed():
    places = [
        (str(path.relative_to(BPVIZ)), where)
        for path in sorted(BPVIZ.rglob("*.py"))
        for where, name in calls_in(path)
        if name == "Snapshot"
    ]
    assert places == [("session/snapshot.py", "make_snapshot")]


def test_the_session_the_probe_and_the_cli_publish_through_the_factory():
    def callers(relative: str, name: str) -> set[str]:
        return {where for where, called in calls_in(BPVIZ / relative) if called == name}

    assert callers("session/session.py", "make_snapshot") == {"snapshot"}
    assert callers("session/probe.py", "make_snapshot") == {"probe"}
    # the CLI's --snapshot-every bundles are the session's own snapshot
    assert "snapshot" in {name for _, name in calls_in(BPVIZ / "cli/train_extras.py")}


def every_array(value, seen=None):
    """Every ndarray in a snapshot: fields, tuples, traces, nested dataclasses."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from every_array(item, seen)
    elif is_dataclass(value) and not isinstance(value, type):
        for field in fields(value):
            yield from every_array(getattr(value, field.name), seen)


@pytest.fixture
def session() -> Session:
    return Session(make_dataset(), config_for((12, 8, 6, 4)))


def snapshots_of_every_producer(session: Session) -> list:
    snaps = [session.snapshot()]
    snaps += [session.step_phase() for _ in range(len(session.phases) + 3)]
    session.run(5, trace_last=True)
    snaps.append(session.snapshot(running=True))
    x = session.dataset.test_images[:3]
    snaps.append(probe(snaps[-1], x, session.dataset.test_labels[:3].astype(np.int64)))
    return snaps


def test_every_array_of_every_snapshot_is_read_only(session):
    for snap in snapshots_of_every_producer(session):
        arrays = list(every_array(snap))
        assert arrays  # parameters at least
        assert not any(a.flags.writeable for a in arrays), snap.phase


def test_the_factory_refuses_an_array_the_training_may_still_write(session):
    snap = session.snapshot()
    with pytest.raises(ValueError, match="read-only"):
        make_snapshot(
            config=snap.config,
            phase=None,
            phase_index=-1,
            counters=Counters.of(snap, snap.history),
            batch=BatchTrace.start(
                snap.x, snap.labels, snap.y, (session.network.weights, session.network.biases)
            ),  # live views of the parameters the training updates in place
        )


def test_a_snapshot_holds_the_engines_traces(session):
    for snap in snapshots_of_every_producer(session):
        assert isinstance(snap.forward, ForwardTrace)
        assert isinstance(snap.backward, BackwardTrace)
        assert snap.z is snap.forward.z and snap.a is snap.forward.a and snap.x is snap.a[0]
        assert snap.delta is snap.backward.delta and snap.grad_w is snap.backward.grad_w
        assert snap.dC_da is snap.backward.dC_da and snap.grad_b is snap.backward.grad_b
        assert snap.sigma_prime is snap.backward.sigma_prime
        if snap.phase is not None and snap.phase_index >= snap.n_layers:  # cost onwards
            assert snap.backward.forward is snap.forward
            assert snap.backward.loss == snap.loss


def test_delta_and_gradients_equal_the_engines_traces_for_the_same_batch(session):
    """Phase stepping, the fast path's traced step and the probe: δ, ∂C/∂a, ∂C/∂W, ∂C/∂b
    equal the engine's own backward pass from the parameters the batch started with."""
    stepped = session.step_batch()
    session.run(3, trace_last=True)
    traced = session.snapshot()
    for snap in (stepped, traced, probe(traced, traced.x, traced.labels)):
        net = make_network(snap.config)
        net.set_parameters(snap.weights_before, snap.biases_before)
        backward = net.backward(net.forward(snap.x), snap.y)
        for name in ("dC_da", "sigma_prime", "delta", "grad_w", "grad_b"):
            for mine, engine in zip(getattr(snap, name), getattr(backward, name), strict=True):
                np.testing.assert_array_equal(mine, engine, err_msg=name)
        for mine, engine in zip(snap.a, backward.forward.a, strict=True):
            np.testing.assert_array_equal(mine, engine)
        assert snap.loss == backward.loss
