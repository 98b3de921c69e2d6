"""Language models behind the ``LLMClient`` protocol: an OpenAI-compatible client, prompts, answers."""

from __future__ import annotations

from .answer import Answer, answer_question
from .base import Completion, JsonMode, JsonSchema, LLMClient, LLMSettings, Message, Usage
from .openai import OpenAICompatibleClient
from .prompt import Prompt, load_prompt

__all__ = [
    "Answer",
    "Completion",
    "JsonMode",
    "JsonSchema",
    "LLMClient",
    "LLMSettings",
    "Message",
    "OpenAICompatibleClient",
    "Prompt",
    "Usage",
    "answer_question",
    "load_prompt",
]
