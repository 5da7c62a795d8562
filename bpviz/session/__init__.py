"""The training session: phases, snapshots, history (plain Python) and, in ``worker.py``,
the one module with threads. No Qt."""
