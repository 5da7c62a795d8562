"""Open the bpviz window: ``python main.py [--data DIR] [--run] ...`` (see ``--help``)."""

import sys

from bpviz.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
