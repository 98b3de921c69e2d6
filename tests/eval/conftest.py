"""The real local model server (SmolLM2-135M) for the end-to-end answer evaluation, and its marker."""

from __future__ import annotations

from ..llms.conftest import local_llm_url, pytest_configure

__all__ = ["local_llm_url", "pytest_configure"]
