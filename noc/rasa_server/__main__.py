"""``python -m noc.rasa_server``: see the package's docstring."""

from noc.rasa_server import main

main()
