"""Two-way sync: ATS activity back (webhooks first, a poll as the net) and corrected contact details out."""
