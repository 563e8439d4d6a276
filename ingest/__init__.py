"""What the sourcing side sends, into a workspace: files and API records validated, matched (source id, then
emails, then LinkedIn URL) and upserted; after each commit the changed candidates are handed to a hook."""
