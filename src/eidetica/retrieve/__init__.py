"""Retrieval: query analysis, per-channel candidates, fusion and packing into a token budget."""
