"""The vocabulary every layer shares (vendors, email types, the error base); imports nothing of ours."""
