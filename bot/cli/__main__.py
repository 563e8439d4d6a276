"""Allow `python -m bot.cli`, the same as the `scaleup` command."""

import sys

from bot.cli import main

sys.exit(main())
