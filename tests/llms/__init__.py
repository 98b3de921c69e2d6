"""The LLM layer: the OpenAI-compatible client, LLM extraction, answers, and a real local model."""
