"""`/scaleup history <name or email>` and the History button: a candidate's export story, to the asker only."""
