"""``python -m scripts.load``: see scripts/load/cli.py and docs/load.md."""

import sys

from scripts.load.cli import main

sys.exit(main())
