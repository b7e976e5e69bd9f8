"""The agents' console on the web server (``/agents``).

Server-rendered Spanish pages behind a login, separate from the JSON API's
bearer token: ``routes.add_console`` registers the pages, ``access`` decides
who may see them (session cookie, CSRF, security headers).
"""
