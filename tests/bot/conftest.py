"""Fixtures of the Slack app tests; the helpers live in `slack_rig.py`."""

from slack_rig import app_server, greenhouse, slack  # noqa: F401 - fixtures
