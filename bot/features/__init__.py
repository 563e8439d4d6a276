"""Slack features, one package each (`listeners.py`, `views.py`, `ids.py`, `forms.py`).

`FEATURES` is the order `create_app` registers them in. Bolt runs the first matching listener, so the
router's fallbacks (help, unknown subcommands, the shortcut) come last: a new subcommand is a feature
whose `register` adds `app.command(SLASH_COMMAND, matchers=[subcommand_is(...)])`, listed before it.
"""

from __future__ import annotations

from bot.features.admins import listeners as admins
from bot.features.alerts import listeners as alerts
from bot.features.connect import listeners as connect
from bot.features.export import listeners as export
from bot.features.history import listeners as history
from bot.features.home import listeners as home
from bot.features.link import listeners as link
from bot.features.preview import listeners as preview
from bot.features.router import listeners as router
from bot.features.status import listeners as status

FEATURES = (admins, connect, link, export, home, status, history, preview, alerts, router)
