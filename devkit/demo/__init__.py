"""`scaleup demo`: the whole product on loopback, with emulated Slack and ATS, driven like a team would."""
