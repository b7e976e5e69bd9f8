"""The NOC intake assistant's own code, one package per process or role.

* ``domain``: the NOC's rules as plain functions (severity, escalation, time
  parsing, places, validators, change types); no Rasa, no database.
* ``db``: the SQL database (models, repository functions, migrations glue,
  retention).
* ``rasa_plugins``: what the Rasa server loads (channels, tracker and lock
  stores, the live log, the NLU component, the changes to Rasa's processor
  that ``python -m noc.rasa_server`` installs before it starts).
* ``action_server``: ``python -m noc.action_server``, rasa_sdk's server for
  the ``actions`` package, behind a token.
* ``web``: the JSON API and the agents' console, ``python -m noc.web``.
* ``notify``: notifications to the agents (queued by the actions, sent by the
  web server), ``ratelimit``: the limits every public route shares.

The Rasa SDK actions and forms live in the top-level ``actions`` package,
which imports from ``domain``, ``db`` and ``notify`` only.
"""
