"""The dev kit: emulators, the Slack stand-in, the demo and the benchmarks; the product never imports it."""
