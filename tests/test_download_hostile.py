"""The downloader against hostile servers: a raw-socket server on 127.0.0.1 whose URL
path picks a behaviour (slow bodies and headers, endless ``100 Continue``, stalls, lies
about lengths, garbage, odd redirects), hostile checksum lists, Cancel from another
thread and Ctrl-C in the CLI — and a seeded fuzz over all of it.

What must hold in every case: a clear :class:`DataError` or the correct file, nothing
written outside the destination, and bounded time.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from bounded import run_in_thread
from hostile_http import BEHAVIOURS, BIG, NAME, HostileServer

from bpviz.cli.download import main as download_cli
from bpviz.data import DataError, DownloadCancelled, DownloadError, download_mnist
from bpviz.data import download as download_module
from bpviz.data.download import md5_of

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def served(mnist_dir) -> dict[str, bytes]:
    return {name: (mnist_dir / name).read_bytes() for name in (NAME, BIG)}


@pytest.fixture
def hostile(served):
    server = HostileServer(served)
    try:
        yield server
    finally:
        server.close()


def md5s(files: dict[str, bytes], *names: str) -> dict[str, str]:
    return {name: hashlib.md5(files[name]).hexdigest() for name in names}


def everything_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


# 1. The checksum list names files: only plain names, only inside the destination.


@pytest.mark.parametrize("bad", ["../escaped.gz", "ABSOLUTE", "sub/dir.gz", "..", ".hidden"])
def test_cli_refuses_names_that_are_paths_and_writes_nothing(
    hostile, served, tmp_path, capsys, bad: str
) -> None:
    outside = tmp_path / "outside.gz"
    bad = str(outside) if bad == "ABSOLUTE" else bad
    hostile.files = {**served, bad.rsplit("/", 1)[-1]: served[NAME]}
    md5 = hashlib.md5(served[NAME]).hexdigest()
    listing = tmp_path / "md5.txt"
    listing.write_text(f"{md5}  {NAME}\n\n{md5}  {bad}\n")
    dest = tmp_path / "work" / "mnist"
    args = ["--dir", str(dest), "--mirror", f"{hostile.url}/ok/", "--quiet"]
    assert download_cli([*args, "--checksums", str(listing)]) == 1
    err = capsys.readouterr().err
    assert f"md5.txt:3: {bad!r} is " in err and "only plain file names" in err
    assert everything_under(tmp_path) == {"md5.txt"}  # nothing fetched, inside or out
    assert hostile.log == []


def test_api_refuses_a_traversing_name_before_fetching(hostile, served, tmp_path) -> None:
    md5 = hashlib.md5(served[NAME]).hexdigest()
    with pytest.raises(DataError, match=r"'\.\./x\.gz': a path with directories"):
        download_mnist(
            tmp_path / "d", [f"{hostile.url}/ok/"], checksums={NAME: md5, "../x.gz": md5}
        )
    assert hostile.log == [] and not (tmp_path / "x.gz").exists()


def test_a_planted_part_symlink_or_fifo_is_not_written_through(hostile, served, tmp_path) -> None:
    dest = tmp_path / "d"
    dest.mkdir()
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    (dest / f"{NAME}.part").symlink_to(victim)
    with pytest.raises(DataError, match=rf"{NAME}\.part: cannot write"):
        download_mnist(dest, [f"{hostile.url}/ok/"], checksums=md5s(served, NAME))
    assert victim.read_bytes() == b"precious"
    (dest / f"{NAME}.part").unlink()
    os.mkfifo(dest / f"{NAME}.part")  # a FIFO would block the writer for ever
    result, _ = run_in_thread(
        lambda: download_mnist(dest, [f"{hostile.url}/ok/"], checksums=md5s(served, NAME)),
        limit=30,
    )
    assert isinstance(result, DataError) and f"{NAME}.part: cannot write" in str(result)


# 5. Deadlines: stalls, slow headers, 100 Continue; Cancel and Ctrl-C keep what arrived.


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("slowbody", "stalled: "),
        ("slowstall", "stalled: "),
        ("hold", "stalled: "),
        ("slowheaders", "no response within 0.5 s"),
        ("continue", "no response within 0.5 s"),
        ("silent", "no response within 0.5 s"),
    ],
)
def test_a_mirror_without_progress_is_abandoned_for_the_next(
    hostile, served, tmp_path, mode: str, reason: str
) -> None:
    mirrors = [f"{hostile.url}/{mode}/", f"{hostile.url}/ok/"]
    result, _ = run_in_thread(
        lambda: download_mnist(
            tmp_path, mirrors, checksums=md5s(served, NAME), stall_timeout=0.5, header_timeout=0.5
        ),
        limit=30,
    )
    assert result == tmp_path and md5_of(tmp_path / NAME) == md5s(served, NAME)[NAME]
    # And alone, the same mirror gives a message that says why.
    result, _ = run_in_thread(
        lambda: download_mnist(
            tmp_path / "alone",
            [f"{hostile.url}/{mode}/"],
            checksums=md5s(served, NAME),
            stall_timeout=0.5,
            header_timeout=0.5,
        ),
        limit=30,
    )
    assert isinstance(result, DownloadError) and reason in str(result), result


def test_slow_but_progressing_server_is_waited_for(hostile, served, tmp_path) -> None:
    # 2 KiB every 0.2 s for 28,881 bytes (~3 s), against a 1 s stall timeout.
    result, _ = run_in_thread(
        lambda: download_mnist(
            tmp_path,
            [f"{hostile.url}/progressing/"],
            checksums=md5s(served, BIG),
            stall_timeout=1.0,
            header_timeout=1.0,
        ),
        limit=60,
    )
    assert result == tmp_path and md5_of(tmp_path / BIG) == md5s(served, BIG)[BIG]


def wait_for_size(path: Path, size: int, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while not (path.is_file() and path.stat().st_size >= size):
        assert time.monotonic() < deadline, f"{path} never reached {size} bytes"
        time.sleep(0.02)


def test_cancel_from_another_thread_takes_effect_within_a_second(hostile, served, tmp_path) -> None:
    cancel = threading.Event()
    part = tmp_path / f"{NAME}.part"
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            download_mnist(
                tmp_path, [f"{hostile.url}/hold/"], None, cancel, checksums=md5s(served, NAME)
            )
        except DataError as error:
            outcome.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    try:
        wait_for_size(part, 1000)  # what the server sent before going silent is on disk
    finally:
        asked = time.monotonic()
        cancel.set()
        worker.join(30)
    took = time.monotonic() - asked
    assert not worker.is_alive()
    assert isinstance(outcome[0], DownloadCancelled)
    assert took < 1.5, f"cancel took {took:.2f} s"  # the poll is 0.2 s; slack for load
    assert part.read_bytes() == served[NAME][:1000]  # kept for resuming, byte for byte
    download_mnist(tmp_path, [f"{hostile.url}/ok/"], checksums=md5s(served, NAME))
    assert hostile.log[-1] == f"/ok/{NAME}" and md5_of(tmp_path / NAME) == md5s(served, NAME)[NAME]


def test_ctrl_c_in_the_cli_keeps_what_arrived_and_says_how_to_resume(
    hostile, served, tmp_path
) -> None:
    listing = tmp_path / "md5.txt"
    listing.write_text(f"{md5s(served, NAME)[NAME]}  {NAME}\n")
    dest = tmp_path / "mnist"
    command = [sys.executable, "-m", "bpviz", "download", "--dir", str(dest)]
    command += ["--checksums", str(listing), "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BPVIZ_CACHE_DIR": str(tmp_path / "cache")}
    child = subprocess.Popen(
        [*command, "--mirror", f"{hostile.url}/hold/"],
        env=env,
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_size(dest / f"{NAME}.part", 1000)
    finally:
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=30)
    assert child.returncode == 130, err
    assert "Traceback" not in err
    assert f"kept {NAME}.part (1,000 bytes) in {dest}" in err and "again to resume" in err
    assert (dest / f"{NAME}.part").read_bytes() == served[NAME][:1000]
    done = subprocess.run(
        [*command, "--mirror", f"{hostile.url}/ok/"], env=env, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0 and md5_of(dest / NAME) == md5s(served, NAME)[NAME]


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("tofile", "only http:// and https:// URLs are used"),
        ("toftp", "only http:// and https:// URLs are used"),
        ("toloop", "more than 5 redirects"),
        ("toempty", "redirect without a Location"),
        ("hugelength", "announces 1,000,000,000,000,000 bytes"),
        ("garbage", "bad response (BadStatusLine"),
        ("shortlength", "checksum mismatch"),
    ],
)
def test_odd_answers_are_clear_mirror_failures(
    hostile, served, tmp_path, mode: str, reason: str
) -> None:
    with pytest.raises(DownloadError, match=r"\(MD5") as info:
        download_mnist(tmp_path / "d", [f"{hostile.url}/{mode}/"], checksums=md5s(served, NAME))
    assert reason in str(info.value), str(info.value)
    assert everything_under(tmp_path) <= {"d", f"d/{NAME}.part"}


def test_endless_body_without_a_length_stops_at_the_size_bound(
    hostile, served, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(download_module, "MAX_BYTES", 1_000_000)
    with pytest.raises(DownloadError, match="more than 1,000,000 bytes: not an MNIST file"):
        download_mnist(tmp_path, [f"{hostile.url}/endless/"], checksums=md5s(served, NAME))
    assert (tmp_path / f"{NAME}.part").stat().st_size == 0


# The fuzz: random hostile mirrors per case, seeded, bounded.

FUZZ_CASES = 40
FUZZ_LIMIT = 0.4  # the stall timeout and header deadline used in the fuzz


def test_fuzz_hostile_mirrors_give_a_clear_error_or_the_right_file(
    hostile, served, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(download_module, "MAX_BYTES", 2_000_000)
    rng = random.Random(15)
    modes = sorted(BEHAVIOURS)
    name_pool = [NAME, NAME, BIG, "../../fuzz-escape.gz", "/tmp/fuzz-escape.gz", ".x"]
    for case in range(FUZZ_CASES):
        root = tmp_path / f"case{case}"
        dest = root / "dest"
        mirrors = [f"{hostile.url}/{rng.choice(modes)}/" for _ in range(rng.randint(1, 3))]
        name = rng.choice(name_pool)
        md5 = hashlib.md5(served.get(name, served[NAME])).hexdigest()
        if rng.random() < 0.15:
            md5 = "0" * 32  # a checksum nothing matches
        hostile.files = {**served, name.rsplit("/", 1)[-1]: served[NAME]}
        cancel = threading.Event()
        result, took = run_in_thread(
            lambda dest=dest, mirrors=mirrors, name=name, md5=md5, cancel=cancel: download_mnist(
                dest,
                mirrors,
                None,
                cancel,
                checksums={name: md5},
                stall_timeout=FUZZ_LIMIT,
                header_timeout=FUZZ_LIMIT,
            ),
            limit=60,
        )
        context = f"case {case}: {name} from {mirrors} → {result!r}"
        # Bounded: each mirror gets two tries of at most a header deadline (per redirect)
        # and two stall windows, plus the body; generous slack for a loaded machine.
        assert took < len(mirrors) * 2 * (6 * FUZZ_LIMIT + 2 * FUZZ_LIMIT + 4), context
        if isinstance(result, Path):
            assert md5_of(dest / name) == md5, context
        else:
            assert isinstance(result, DataError) and str(result), context
            assert "Traceback" not in str(result)
        found = everything_under(root)
        assert found <= {"dest", f"dest/{name}", f"dest/{name}.part"}, (context, found)
        assert not Path("/tmp/fuzz-escape.gz").exists(), context
