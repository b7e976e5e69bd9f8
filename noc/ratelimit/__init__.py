"""Rate limits of the public webhooks and the console login.

``window`` holds the arithmetic (sliding-window counter, pure), ``counters``
where the counts live (Redis when ``REDIS_URL`` is set, so every server of a
cluster shares them; process memory otherwise), ``limiter`` the limits read
from the settings, and ``client_ip`` who a request comes from behind proxies.
"""
