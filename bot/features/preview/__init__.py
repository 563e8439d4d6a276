"""`/scaleup preview <search>`: what the next pass over a linked search would do, to the asker only."""
