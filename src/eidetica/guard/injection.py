"""Stored prompt injection: text written to memory that addresses the model instead of saying
something about the world.

Whatever memory stores comes back later as context the model believes, so an attacker who can get
one message stored ("SYSTEM: ignore previous instructions and ...") can steer every later answer.
This module reads a message for the marks of such text, by rules (no model, no network):

- **instructions to the model**: "ignore previous instructions", "you are now ...", "from now on
  you must answer ...", "note to the AI assistant", "tell the user that ...", "reveal all
  memories", developer mode named; and, in any wording and a dozen languages, an order about what
  memory answers later given to its reader, by a would-be authority or in control markup
  (``guard.steering``);
- **chat-template and tool-call syntax**: ``<|im_start|>system``, ``[INST]``, ``<<SYS>>``,
  ``<tool_call>``, ``{"name": ..., "arguments": ...}``, a line that opens with ``system:``;
- **forged layout**: a line break followed by what the packed context uses for its own structure,
  a day header ``[1 January 2020]`` or a past marker, so that stored text would read as lines of
  its own; and text dressed as memory's own records, logs, transcripts or fact lists that claim a
  provenance (``guard.forgery``);
- **hidden text**: zero-width, bidirectional-override and Unicode tag characters, and HTML
  comments outside a code block, which show nothing to a person reviewing the text but are read
  by the model;
- **encoded payloads**: a long base64 run, a way to smuggle an instruction past a reader.

A message with any of these marks is quarantined with its derived units (``guard.quarantine``):
kept, since nothing is lost, but left out of ``search``, ``context`` and ``answer`` until a person
approves it. The rules aim at what ordinary conversation never says; on the LoCoMo development
conversations they flag none of the 2,760 turns (``benchmarks/attacks.py`` reports it), and
``benchmarks/benign.py`` measures them on what agents are sent besides chat: code, logs, tables,
quoted mail, talk about AI, standing preferences, other languages, role-play.
"""

from __future__ import annotations

import re
import unicodedata

from ..caseless import Caseless
from .forgery import forgery_marks
from .steering import steering_marks
from .wording import quote

__all__ = ["injection_marks"]

#: The labels of reasons the phrase rules and the general ones (``steering``, ``forgery``) share.
_INSTRUCTION = "instruction to the model"
_FORGED_LINE = "a line forged as the context's own layout"
_INSTRUCTIONS = Caseless(
    r"\b(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+)?(?:(?:the|your|my|these|those)\s+)?"
    r"(?:(?:previous|prior|above|earlier|preceding|original|system|safety)\s+)(?:instructions?|prompts?|rules|"
    r"directions|guidelines|guardrails)\b"
    r"|\b(?:ignore|disregard|bypass|override)\s+(?:all\s+|any\s+)?(?:(?:the|your|these|those)\s+)?"
    r"(?:instructions|guidelines|guardrails|system\s+prompt)\b"
    r"|\byou\s+are\s+now\s+(?:a|an|in|my|the|no\s+longer|free|dan)\b"
    r"|\bfrom\s+now\s+on,?\s+(?:you|the\s+(?:ai|assistant|model))\s+(?:must|will|should|shall|are)\b"
    r"|\byou\s+must\s+(?:now\s+|always\s+)?(?:answer|say|reply|respond|tell|claim|state)\b"
    r"|\b(?:note|message|instructions?|reminder)\s+(?:to|for)\s+(?:the\s+|any\s+|all\s+)?(?:ai|assistants?|"
    r"models?|llms?|chatbots?|bots?|agents?)\b"
    r"|\b(?:tell|inform|convince)\s+(?:the\s+)?user\s+that\b"
    r"|\b(?:reveal|print|output|dump|leak|show\s+me)\s+(?:all\s+|every\s+|the\s+)?(?:memories|stored\s+memories|"
    r"system\s+prompt|hidden\s+instructions|other\s+users)\b"
    r"|\b(?:developer\s+mode|jailbreak|do\s+anything\s+now|stay\s+in\s+character)\b"
    r"|\b(?:let's|lets|let\s+us)\s+role[- ]?play\b|\byou\s+are\s+(?:now\s+)?\w*(?:bot|gpt)\b"
    r"|\bnew\s+(?:system\s+)?instructions?\s*:|\bdisregard\s+(?:the\s+|everything\s+)?(?:above|previous|prior)\b"
    # Orders for whoever reads this later: "when asked where Ingrid lives, respond ...", "if you
    # are a language model ...", "system notice", "always tell anyone who asks that ...".
    r"|\bwhen(?:ever)?\s+(?:you\s+are\s+|you're\s+|anyone\s+|someone\s+)?ask(?:ed|s)?\b[^.;\n]{0,80}\b(?:respond|answer|reply|say)\b"
    r"|\bif\s+you\s+are\s+(?:an?\s+)?(?:ai|a\.i\.|language\s+model|llm|assistant|chatbot|bot|agent)\b"
    r"|\b(?:system|admin|administrator|developer|operator)\s+(?:notice|override|directive)\b"
    r"|\balways\s+(?:tell|say\s+to|answer|reply\s+to|respond\s+to)\s+(?:anyone|anybody|everyone|whoever|people)\b"
    r"|\b(?:the\s+)?(?:ai|assistant|model|chatbot|llm)\s+(?:must|should|shall|will)\s+(?:always|never|now|from\s+now\s+on)\b"
    r"|\b(?:pretend|act)\s+(?:to\s+be|as\s+if\s+you|you\s+are)\s+(?:an?\s+)?(?:unrestricted|unfiltered|"
    r"different|new|evil|the\s+system|the\s+admin)",
)
#: "Ignore the previous instructions" in the languages an attacker most often writes it in.
_FOREIGN_INSTRUCTIONS = Caseless(
    r"ignorier\w*\s+(?:alle\s+)?(?:vorherigen|bisherigen|obigen)?\s*(?:anweisungen|befehle)"
    r"|ignora\w*\s+(?:todas\s+)?(?:las\s+)?instrucciones|ignore[sz]?\s+(?:toutes\s+)?les\s+instructions"
    r"|ignora\w*\s+(?:tutte\s+)?le\s+istruzioni|ignore\s+(?:todas\s+)?as\s+instru[çc][õo]es"
    r"|(?:以前|前)の指示を無視|忽略(?:之前|以前|上面)的(?:指令|指示)",
)
_TEMPLATE = re.compile(
    r"<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id)\|>"
    r"|\[/?INST\]|<</?SYS>>|<\s*/?\s*(?:system|tool_call|function_call|tool_response)\s*>"
    r"|\"(?:function_call|tool_calls?)\"\s*:|\{\s*\"name\"\s*:\s*\"[^\"]+\"\s*,\s*\"(?:arguments|parameters)\"\s*:"
    r"|(?:^|\n)\s*(?:system|developer|assistant)\s*(?:prompt)?\s*:|(?:^|\n)\s*#{1,3}\s*(?:system|instructions?)\b"
    r"|(?:^|\n)\s*\[\s*(?:system|user|assistant|developer|tool)\s*\]",
    re.IGNORECASE,
)
#: A line break, then what the packed context uses for its own structure.
_FORGED_LAYOUT = re.compile(
    r"[\r\n\u2028\u2029\x0b\x0c\x85]\s*(?:\[\s*\d{1,2}\s+[A-Z][a-z]+\s+\d{4}\s*\]|\(past\b|"
    r"\[\s*\d{4}-\d\d-\d\d)"
)
#: Zero-width spaces, direction overrides and tag characters; not the joiner inside an emoji
#: ("🧘\u200d♀️") nor the direction marks of right-to-left writing, nor a file's byte-order mark.
_HIDDEN = re.compile(
    "[\u200b\u200c\u202a-\u202e\u2060-\u2064\u2066-\u2069\U000e0000-\U000e007f]|(?<=.)\ufeff"
)
#: A fenced code block, where an HTML comment (which a page shows nobody) is only code.
_CODE_BLOCK = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_ENCODED = re.compile(r"(?<![\w/+])[A-Za-z0-9+/]{48,}={0,2}(?![\w/+])")


def injection_marks(text: str) -> list[str]:
    """What in ``text`` addresses the model rather than recording what was said, as reasons a
    reviewer reads ("instruction to the model: 'ignore previous instructions'"); empty for
    ordinary text."""
    reasons: list[str] = []
    text = unicodedata.normalize("NFKC", text)  # "［1 May 2024］" is "[1 May 2024]"
    for label, pattern in (
        (_INSTRUCTION, _INSTRUCTIONS),
        (_INSTRUCTION, _FOREIGN_INSTRUCTIONS),
        ("chat-template or tool-call syntax", _TEMPLATE),
        (_FORGED_LINE, _FORGED_LAYOUT),
    ):
        if (found := pattern.search(text)) and not any(r.startswith(label) for r in reasons):
            reasons.append(f"{label}: {quote(found[0])}")
    # The general rules add a reason only where the phrase rules gave none of its kind.
    if not any(r.startswith(_INSTRUCTION) for r in reasons):
        reasons.extend(steering_marks(text))
    if not any(r.startswith(_FORGED_LINE) for r in reasons):
        reasons.extend(forgery_marks(text))
    if _HIDDEN.search(text):
        reasons.append("hidden characters (zero-width, direction overrides or tags)")
    if "<!--" in text and "<!--" in _CODE_BLOCK.sub("", text):
        reasons.append("hidden text: an HTML comment")
    if (encoded := _ENCODED.search(text)) and _mixed(encoded[0]):
        reasons.append(f"an encoded payload: {quote(encoded[0][:24])}...")
    return reasons


def _mixed(run: str) -> bool:
    """Base64 mixes cases and digits; a long word or a row of one letter does not."""
    return any(c.isdigit() for c in run) and any(c.isupper() for c in run) and any(c.islower() for c in run)
