"""``python -m noc.web``: the JSON API, the demo page and the agents' console on WEB_HOST:WEB_PORT."""

from noc.web.server import main

main()
