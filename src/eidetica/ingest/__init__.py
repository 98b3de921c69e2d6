"""Getting conversations in: input formats, timestamps, and extraction of facts and events."""
