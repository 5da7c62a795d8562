"""The window (PySide6 + pyqtgraph): ``app`` opens it, ``main_window`` holds the docks,
``views/`` has one small widget per view. The only package of bpviz that loads Qt."""
