"""Tests that drive every face (``Memory``, ``Client``, REST, CLI, MCP) over one store."""
