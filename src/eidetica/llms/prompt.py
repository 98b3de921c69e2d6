"""Prompt templates shipped as text files in ``eidetica/llms/prompts``, versioned by file name.

A file ``extract_v1.txt`` holds the prompt ``extract`` at version ``extract_v1``. It has an
optional ``=== system`` section and a ``=== user`` section; ``$name`` placeholders (``string.Template``)
are filled in by ``render``, so JSON braces in a prompt need no escaping. Changing a prompt means
adding ``extract_v2.txt``: results stay traceable to the exact wording that produced them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from string import Template

from ..errors import UsageError
from .base import Message

__all__ = ["Prompt", "load_prompt"]

_SECTION_RE = re.compile(r"^=== (system|user)[ \t]*$", re.MULTILINE)
_NAME_RE = re.compile(r"[a-z][a-z0-9_]*_v\d+")


@dataclass(frozen=True)
class Prompt:
    """A system and a user template (the system one may be empty); ``version`` is the file's stem."""

    version: str
    system: str
    user: str

    def render(self, **values: object) -> list[Message]:
        """Fill the placeholders and return the chat messages; a missing value is an error."""
        try:
            system = Template(self.system).substitute(values)
            user = Template(self.user).substitute(values)
        except KeyError as exc:
            raise UsageError(f"prompt {self.version} needs a value for ${exc.args[0]}") from None
        messages: list[Message] = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": user})
        return messages


@functools.cache
def load_prompt(version: str) -> Prompt:
    """Read the prompt ``version`` (``"extract_v1"``) from the package's prompt files."""
    if not _NAME_RE.fullmatch(version):
        raise UsageError(f"prompt names look like 'extract_v1', got {version!r}")
    source = resources.files("eidetica.llms").joinpath("prompts").joinpath(f"{version}.txt")
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"no prompt named {version!r} ships with this version of Eidetica") from None
    parts = _SECTION_RE.split(text)
    sections = dict(zip(parts[1::2], (p.strip("\n") for p in parts[2::2]), strict=True))
    if len(sections) * 2 != len(parts) - 1 or "user" not in sections:
        raise UsageError(f"prompt {version} needs one '=== user' section and at most one '=== system'")
    return Prompt(version, sections.get("system", ""), sections["user"])
