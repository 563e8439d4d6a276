"""Fixtures of the Slack app tests; the helpers live in `slack_rig.py`."""

from export_rig import export_server, fast_greenhouse
from slack_rig import app_server, greenhouse, slack
