"""runtime.pipe.Channel.poll: one poll(2) call, with Connection.poll's answers."""

from __future__ import annotations

import multiprocessing
import time

from bpviz.runtime.pipe import Channel


def channel_pair() -> tuple[Channel, Channel]:
    a_in, b_out = multiprocessing.Pipe(duplex=False)
    b_in, a_out = multiprocessing.Pipe(duplex=False)
    return Channel(a_in, a_out), Channel(b_in, b_out)


def test_poll_says_whether_a_message_waits_and_waits_at_most_its_timeout() -> None:
    a, b = channel_pair()
    assert not a.poll()
    started = time.monotonic()
    assert not a.poll(0.05)
    assert time.monotonic() - started >= 0.04
    b.send({"serial": 1})
    assert a.poll() and a.poll(None)  # still there: polling does not consume
    assert a.recv() == {"serial": 1}
    assert not a.poll()
    a.close()
    b.close()


def test_poll_is_true_at_the_end_of_the_pipe_so_recv_can_say_so() -> None:
    a, b = channel_pair()
    b.close()
    assert a.poll(1.0)
    try:
        a.recv()
    except EOFError:
        pass
    else:  # pragma: no cover - the assertion's message
        raise AssertionError("recv after the writer closed should raise EOFError")
    a.close()
