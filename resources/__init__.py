"""Data files shipped inside the package as ``bpviz.resources`` (see NOTICE)."""
