"""Running a training session: the worker thread (``worker``), the child process the window
trains in (``remote``) and the shared-memory blocks its snapshots travel through
(``shared_snapshot``). No Qt."""
