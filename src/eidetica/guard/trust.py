"""Who asserted a statement, and how far memory trusts it to change what the user said.

A unit's ``role`` records who asserted it: the user (or a plain import, which has no role), the
assistant, a tool, or the system and its integrations; units derived from a message carry its
role. What the user said about themselves is the highest authority memory has: a statement from
a less trusted source never closes it. "Alice's bank account is 9999-0000", said by an
assistant or returned by a tool, is stored beside Alice's own statement as a claim, shown with its
source, and both stay current: it does not replace hers.
"""

from __future__ import annotations

from ..model import MemoryUnit

__all__ = ["TRUST", "may_replace", "trust", "users_word"]

#: Trust by role; a role not listed (a custom one) is trusted as little as a tool.
TRUST: dict[str, int] = {"user": 3, "system": 2, "assistant": 1, "tool": 1}
#: What a unit without a role (a plain string added, an import) is trusted as: the user's word.
NO_ROLE = "user"


def trust(unit: MemoryUnit) -> int:
    """How far ``unit``'s source is trusted: higher is more."""
    return TRUST.get((unit.role or NO_ROLE).strip().lower(), TRUST["tool"])


def users_word(unit: MemoryUnit) -> bool:
    """Whether ``unit`` is trusted as the user's own word: the context shows any other with its
    source ("(said by the assistant)")."""
    return trust(unit) >= TRUST[NO_ROLE]


def may_replace(new: MemoryUnit, old: MemoryUnit) -> bool:
    """Whether ``new`` may close ``old``: only a source trusted at least as far may."""
    return trust(new) >= trust(old)
