"""Fixtures of the Slack app tests; the helpers live in `slack_rig.py`."""

from export_rig import export_server, fast_greenhouse  # noqa: F401 - fixtures of the manual-export tests
from slack_rig import app_server, ashby, greenhouse, slack  # noqa: F401 - fixtures
