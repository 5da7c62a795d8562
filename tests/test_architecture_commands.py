"""One command interface (issue 13, step 2), checked on the source and on real workers.

``Worker`` (a thread) and ``RemoteWorker`` (a child process) both implement
``bpviz.runtime.commands.TrainingWorker`` in their own class bodies; commands are typed
objects dispatched by ``match``, not strings; nothing forwards unknown names
(``__getattr__``), so a misspelt command is an AttributeError, not a call to the child.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path

import numpy as np
import pytest

from bpviz.data import load_sample
from bpviz.runtime.commands import Command, SetEta, StepBatch, TrainingWorker
from bpviz.runtime.remote import RemoteWorker
from bpviz.runtime.worker import Worker
from bpviz.session.session import Session
from bpviz.session.snapshot import SessionConfig

PACKAGE = Path(__file__).resolve().parent.parent / "bpviz"
RUNTIME = PACKAGE / "runtime"
# names a string-dispatched command would be compared through (``if name == "run"``)
DISPATCH_NAMES = {"name", "kind", "command", "cmd", "message", "request", "op", "action"}
# methods that queued or sent a command named by a string (``self._submit("run")``)
QUEUEING = {"submit", "_submit", "_enqueue", "_call", "_command", "send", "append"}


def trees(folder: Path):
    for path in sorted(folder.rglob("*.py")):
        yield path.relative_to(PACKAGE.parent), ast.parse(path.read_text(encoding="utf-8"))


def is_text(node: ast.AST) -> bool:
    """A string literal, or a tuple/list/set of them."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return bool(node.elts) and all(is_text(e) for e in node.elts)
    return False


def is_dispatch_operand(node: ast.AST) -> bool:
    """``name`` or ``message[0]``: what a string dispatch compares."""
    if isinstance(node, ast.Name):
        return node.id in DISPATCH_NAMES
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant) and node.slice.value == 0
    return False


def protocol_members() -> list[str]:
    return sorted(
        name
        for name, value in vars(TrainingWorker).items()
        if not name.startswith("_") and (callable(value) or isinstance(value, property))
    )


def test_no_getattr_forwarding_anywhere_in_bpviz():
    found = [
        f"{path}:{node.lineno}"
        for path, tree in trees(PACKAGE)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name in ("__getattr__", "__getattribute__")
    ]
    assert not found, f"attribute forwarding (name-based dispatch) at {found}"


def test_no_string_dispatched_commands_in_runtime():
    found = []
    for path, tree in trees(RUNTIME):
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                operands = [node.left, *node.comparators]
                if any(map(is_text, operands)) and any(map(is_dispatch_operand, operands)):
                    found.append(f"{path}:{node.lineno}: {ast.unparse(node)}")
            elif isinstance(node, ast.Call) and node.args:
                method = getattr(node.func, "attr", getattr(node.func, "id", ""))
                first = node.args[0]
                tagged = isinstance(first, ast.Tuple) and first.elts and is_text(first.elts[0])
                if method in QUEUEING and (is_text(first) or tagged):
                    found.append(f"{path}:{node.lineno}: {ast.unparse(node)[:70]}")
                dynamic = isinstance(node.func, ast.Call) and getattr(node.func.func, "id", "")
                if dynamic == "getattr" and not isinstance(node.func.args[1], ast.Constant):
                    found.append(f"{path}:{node.lineno}: {ast.unparse(node)[:70]}")
    assert not found, "commands named by strings:\n" + "\n".join(found)


def declared_only(name: str) -> bool:
    """A protocol member the protocol only declares (its body is a docstring and ``...``);
    the others it writes once for its subclasses: the one-line commands, and the
    ``running`` and ``serial`` each worker keeps."""
    member = vars(TrainingWorker)[name]
    function = member.fget if isinstance(member, property) else member
    body = ast.parse(textwrap.dedent(inspect.getsource(function))).body[0].body
    return all(isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) for stmt in body)


@pytest.mark.parametrize("cls", [Worker, RemoteWorker])
def test_each_worker_implements_the_protocol_explicitly(cls):
    """Each worker subclasses the protocol, defines in its own body every member the
    protocol only declares, and inherits the members it writes (each command one line,
    ``submit`` of a typed command; the state read from the worker's own field) — nothing
    is forwarded by name."""
    assert TrainingWorker in cls.__mro__
    members = protocol_members()
    assert {"run", "set_eta", "train_on", "with_session", "latest", "failure"} <= set(members)
    declared = [name for name in members if declared_only(name)]
    assert {"submit", "latest", "with_session", "failure"} <= set(declared)
    missing = [name for name in declared if name not in vars(cls)]
    assert not missing, f"{cls.__name__} does not define {missing} itself"
    for name in members:
        mine, theirs = getattr(cls, name), vars(TrainingWorker)[name]
        assert isinstance(mine, property) == isinstance(theirs, property), name
        if name in declared and not isinstance(theirs, property):
            assert list(inspect.signature(mine).parameters) == list(
                inspect.signature(theirs).parameters
            ), f"{cls.__name__}.{name} differs from the protocol"
        if name not in declared:  # written once, in the protocol
            assert name not in vars(cls), f"{cls.__name__}.{name} repeats the protocol's"
            if isinstance(theirs, property):  # the state each worker keeps, read once
                source = inspect.getsource(theirs.fget)
                assert f"return self._{name}" in source, name
            else:  # a command
                assert "self.submit(" in inspect.getsource(theirs), name


@pytest.fixture(scope="module")
def workers():
    data = load_sample()
    local = Worker(Session(data, SessionConfig(seed=1)))
    local.start()
    remote = RemoteWorker(data, SessionConfig(seed=1))
    yield local, remote
    local.stop()
    remote.stop()


def test_both_real_workers_are_training_workers_and_misspellings_do_not_exist(workers):
    for worker in workers:
        assert isinstance(worker, TrainingWorker)
        assert hasattr(worker, "train_on")
        assert not hasattr(worker, "train_onn")
        with pytest.raises(AttributeError):
            worker.train_onn(np.zeros((1, 784)), [3])
    remote = workers[1]
    assert remote.alive and remote.failure is None  # the misspelling never reached it


def test_both_workers_refuse_anything_but_a_command_and_queue_nothing(workers):
    local, remote = workers
    before = sum(local.submitted.values())
    for wrong in ("step_batch", ("set_eta", 0.5), object()):
        for worker in workers:
            with pytest.raises(TypeError, match="not a worker command"):
                worker.submit(wrong)
    assert sum(local.submitted.values()) == before
    assert isinstance(StepBatch(), Command)
    step = remote.latest().step
    assert local.submit(StepBatch()) is None and remote.submit(StepBatch()) is None
    assert remote.wait_idle(10.0) and remote.latest().step == step + 1
    assert remote.alive and remote.failure is None


def test_a_command_is_acknowledged_by_its_value_not_by_a_snapshot(workers):
    local, remote = workers
    assert local.set_eta(np.float32(0.5)) == 0.5 and local.submit(SetEta(0.25)) == 0.25
    assert remote.wait_idle(10.0)
    taken = []
    original = remote._take  # record what the answer brings back (a spy, not a stand-in)
    remote._take = lambda published, asked=True: (
        taken.append(asked),
        original(published, asked),
    )
    try:
        accepted = remote.set_eta(0.5)
    finally:
        del remote._take
    assert accepted == 0.5 and type(accepted) is float
    assert False not in taken, "the command's answer shipped the worker's state"
    assert remote.wait_idle(10.0) and remote.latest().eta == 0.5  # seen through latest()
