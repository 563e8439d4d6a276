"""The App Home tab: what the app does and how to start (issue 7 adds per-link status here)."""

from __future__ import annotations

from slack_sdk.models.blocks import HeaderBlock
from slack_sdk.models.views import View

from bot.features.router.views import usage_blocks


def home_view() -> View:
    """Return the Home tab."""
    blocks = [HeaderBlock(text="ScaleUp ATS Export"), *usage_blocks()]
    return View(type="home", blocks=blocks)
