"""``python -m noc.action_server``: see the package's docstring."""

import sys

from noc.action_server import main

sys.exit(main())
