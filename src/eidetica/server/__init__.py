"""Eidetica as a service: the REST API, the MCP server, and what they share."""
