"""One home for "does the network have wᵢⱼˡ": the worker API and the session refuse a
watch on a weight that is not there with the same sentence, ``limits.check_weight``'s."""

from __future__ import annotations

import pytest

from bpviz.data import load_sample
from bpviz.runtime.worker import Worker
from bpviz.session import limits
from bpviz.session.session import Session
from bpviz.session.snapshot import SessionConfig


@pytest.mark.parametrize("key", [(3, 0, 0), (1, 30, 0), (2, 0, 30), (1, 0, True), (1, 0.5, 2)])
def test_every_door_refuses_a_missing_weight_with_one_sentence(key):
    sizes = (784, 30, 10)
    with pytest.raises(ValueError) as rule:
        limits.check_weight(*key, sizes)
    assert str(rule.value).startswith("no weight wᵢⱼˡ") and "(30, 784)" in str(rule.value)
    session = Session(load_sample(), SessionConfig(sizes=sizes))
    worker = Worker(session)
    for door in (worker.add_watch, session.add_watch):
        with pytest.raises(ValueError) as refused:
            door(*key)
        assert str(refused.value) == str(rule.value)
    assert limits.check_weight(2, 9, 29, sizes) == (2, 9, 29)
