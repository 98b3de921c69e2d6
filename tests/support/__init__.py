"""Test helpers that are not tests: a local model server for the end-to-end LLM tests."""
