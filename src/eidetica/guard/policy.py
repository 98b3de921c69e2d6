"""What a tenant's memory does with personal data and secrets (``guard.personal`` finds them).

Four policies, chosen per tenant:

- ``keep`` (the default): stored and shown as said; the owner's memory is the owner's.
- ``mask``: stored as said (nothing is lost, and the owner can still get and export it), but
  ``context`` and ``answer``, what a model reads, show ``[email]``, ``[card]``, ``[secret]``...
- ``redact``: stored masked; the original never reaches the database. The turn and what is
  derived from it say ``[card]`` for good.
- ``refuse``: a message holding any is not stored; the add fails with an error naming the kinds
  found (never the values), and nothing of that add is written.

Servers and commands read the policy from ``EIDETICA_PERSONAL_DATA``: one policy for every tenant
(``mask``), or per tenant with a default for the rest (``acme=redact,globex=refuse,*=mask``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal, get_args

from ..errors import InputFormatError, UsageError
from ..model import MemoryUnit, TurnInput
from .personal import find_personal_data, mask

__all__ = [
    "POLICIES",
    "PersonalData",
    "check_policy",
    "for_reading",
    "for_writing",
    "policy_of",
    "tenant_policies",
]

PersonalData = Literal["keep", "mask", "redact", "refuse"]
POLICIES: tuple[str, ...] = get_args(PersonalData)
#: The key of the default policy in a per-tenant spec.
EVERY_TENANT = "*"


def check_policy(name: str) -> PersonalData:
    """``name`` as a policy; UsageError naming the choices otherwise."""
    if name not in POLICIES:
        raise UsageError(f"unknown personal data policy {name!r}: choose one of {', '.join(POLICIES)}")
    return name  # type: ignore[return-value]  # checked just above


def tenant_policies(spec: str) -> dict[str, PersonalData]:
    """Parse ``mask`` or ``acme=redact,globex=refuse,*=mask`` into tenant -> policy (``*``: the rest)."""
    policies: dict[str, PersonalData] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        tenant, sep, name = part.rpartition("=")
        policies[tenant.strip() if sep else EVERY_TENANT] = check_policy(name.strip())
    return policies


def policy_of(tenant: str, policies: dict[str, PersonalData]) -> PersonalData:
    """``tenant``'s policy in ``policies`` (as ``tenant_policies`` reads them): its own, else the
    one for every tenant (``*``), else keep."""
    return policies.get(tenant, policies.get(EVERY_TENANT, "keep"))


def for_writing(turns: Sequence[TurnInput], policy: PersonalData) -> list[TurnInput]:
    """``turns`` as the policy lets them be stored: masked under ``redact``; under ``refuse``,
    an InputFormatError when any holds personal data."""
    if policy in ("keep", "mask"):
        return list(turns)
    found = [find_personal_data(t.content) for t in turns]
    if policy == "redact":
        return [
            dataclasses.replace(t, content=mask(t.content, f)) if f else t
            for t, f in zip(turns, found, strict=True)
        ]
    if holding := [i for i, f in enumerate(found) if f]:
        kinds = sorted({x.kind for f in found for x in f})
        raise InputFormatError(
            f"message {holding[0] + 1} holds personal data ({', '.join(kinds)}), which this "
            "memory's policy refuses to store: nothing of this add was stored"
        )
    return list(turns)


def for_reading(unit: MemoryUnit, policy: PersonalData) -> MemoryUnit:
    """``unit`` as a model may read it: masked under ``mask``, as stored otherwise."""
    if policy != "mask":
        return unit
    masked = mask(unit.text)
    return unit if masked == unit.text else dataclasses.replace(unit, text=masked)
