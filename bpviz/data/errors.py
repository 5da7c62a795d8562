"""The data layer's errors: each message names the file (or URL) and what is wrong."""

from __future__ import annotations


class DataError(Exception):
    """A data file or directory cannot be used: missing, corrupt, inconsistent.

    The message is meant for the user as is (CLI stderr, the app's error dialog),
    e.g. ``"…/train-labels-idx1-ubyte.gz: label 12 at index 7 is outside 0–9"``.
    """


class DownloadError(DataError):
    """Every mirror failed for a file; the message lists what was tried and how to
    place the files by hand."""


class DownloadCancelled(DataError):  # noqa: N818 (a cancellation, not an error)
    """The caller's cancel event was set; nothing that looks complete was left behind."""
