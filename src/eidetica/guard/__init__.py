"""Guards on what memory stores and shows: injected instructions, personal data."""
