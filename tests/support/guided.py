"""Schema-guided greedy decoding: replies that always parse and fit a JSON Schema, as real servers do.

llama.cpp server, vLLM and Ollama honour ``response_format: {"type": "json_schema", ...}`` by
constraining decoding to a grammar. This is the same idea for the subset of JSON Schema that
Eidetica's schemas use, written for a model run through transformers. The fixed structure (braces,
keys, quotes, commas) is written as literal text, fed to the model so it conditions what follows,
and the model decides only the free parts, each greedily among the tokens that keep the reply valid:

* strings: any token free of quotes, backslashes and control characters, until the best token is
  one that closes the string (``"``, ``",``, ``."`` ...); at most ``MAX_STRING_CHARS`` characters;
* integers: digit tokens, within ``minimum`` / ``maximum``, until the best token ends the number;
* choices (``enum``, ``const``, booleans, ``null`` or a value, ``,`` or ``]`` after an array
  item): the option whose best consistent token scores highest, token by token where they share
  a prefix; arrays hold at most ``maxItems`` items, and never more than ``MAX_ARRAY_ITEMS``;
* ``pattern``: anchored sequences of literal characters and ``\\d`` / ``\\d{n}`` / ``[0-9]``.

``max_tokens`` holds as far as the schema allows: before each free token the decoder checks that
the cheapest way to close everything still open fits, and when it would not, it ends the value the
model wanted to go on with (no further array item, the string closed, ``null`` for a value); the
reply is then complete JSON with finish reason ``length``. Real servers cut the text off mid-JSON
instead; the client's salvage of cut replies is tested with scripted replies. Only a schema whose
cheapest reply is itself longer than ``max_tokens`` gets more tokens than asked for.

Greedy and deterministic: ``temperature`` is ignored. A schema outside the subset raises
``UnsupportedSchema`` before any token is generated, so the server can refuse it as a real one would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["MAX_ARRAY_ITEMS", "MAX_STRING_CHARS", "GuidedDecoder", "UnsupportedSchema", "minimal_json"]

Schema = Mapping[str, Any]

MAX_STRING_CHARS = 200
MAX_ARRAY_ITEMS = 8
MAX_INT_DIGITS = 6
#: Tokens kept in hand when estimating whether the closing text still fits in ``max_tokens``.
SAFETY_TOKENS = 2
#: An array item is begun only when this many tokens beyond its cheapest form are left for it.
ITEM_ROOM_TOKENS = {"object": 24, "array": 8, "string": 8}

_KEYWORDS = frozenset(
    {"type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems"}
    | {"enum", "const", "pattern", "minimum", "maximum", "title", "description"}
)
_TYPES = frozenset({"object", "array", "string", "integer", "boolean", "null"})
_CLEAN = r'[^"\\\x00-\x1f\x7f\ufffd]'  # a character a JSON string may hold unescaped
_CONTENT_RE = re.compile(f"{_CLEAN}+")
_CLOSING_RE = re.compile(f'({_CLEAN}*)".*', re.DOTALL)
_PATTERN_PART_RE = re.compile(r"\\d\{(\d+)\}|\\d|\[0-9\]\{(\d+)\}|\[0-9\]|\\([^\w\s])|([^\\^$.*+?()\[\]{}|])")
_DIGITS = "0123456789"


class UnsupportedSchema(ValueError):
    """The schema uses JSON Schema outside the subset this decoder can enforce."""


def minimal_json(schema: Schema) -> str:
    """The shortest JSON text that fits ``schema``; raises ``UnsupportedSchema`` outside the subset."""
    unknown = set(schema) - _KEYWORDS
    if unknown:
        raise UnsupportedSchema(f"keywords {sorted(unknown)} are not supported")
    if "const" in schema:
        return _dumps(schema["const"])
    if "enum" in schema:
        return min((_dumps(v) for v in schema["enum"]), key=len)
    kind, nullable = _kind(schema)
    if nullable:
        _ = minimal_json({**schema, "type": kind})  # check the non-null part too
        return "null"
    if kind == "object":
        fields = [f"{_dumps(k)}: {minimal_json(v)}" for k, v in schema.get("properties", {}).items()]
        return "{" + ", ".join(fields) + "}"
    if kind == "array":
        if "items" not in schema:
            raise UnsupportedSchema("arrays need an items schema")
        item = minimal_json(schema["items"])
        return "[" + ", ".join([item] * int(schema.get("minItems", 0))) + "]"
    if kind == "string":
        if "pattern" in schema:
            return '"' + "".join(text + "0" * n for text, n in _pattern(schema["pattern"])) + '"'
        return '""'
    if kind == "integer":
        low, high = schema.get("minimum", 0), schema.get("maximum", 10**MAX_INT_DIGITS - 1)
        if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high < 10**MAX_INT_DIGITS):
            raise UnsupportedSchema(f"integer bounds must lie in 0-{10**MAX_INT_DIGITS - 1}")
        return str(low)
    return "true" if kind == "boolean" else "null"


class GuidedDecoder:
    """Greedy, schema-constrained decoding for a transformers causal LM and its tokenizer."""

    def __init__(self, model: Any, tokenizer: Any, separators: tuple[str, str] = (", ", ": ")) -> None:
        import torch

        self.torch = torch
        self.item_separator, self.key_separator = separators
        self.model = model
        self.tokenizer = tokenizer
        size = int(model.config.vocab_size)
        known = min(size, len(tokenizer))
        special = set(tokenizer.all_special_ids)
        texts: list[str] = tokenizer.batch_decode([[i] for i in range(known)])
        #: Each token's text; empty for special tokens, which are never chosen.
        self.texts = [("" if i in special else t) for i, t in enumerate(texts)] + [""] * (size - known)
        # A token that closes a string may carry string text before its quote (``."``); it is kept.
        self.closing_text: dict[int, str] = {}
        for i, text in enumerate(self.texts):
            found = _CLOSING_RE.fullmatch(text)
            if found is not None:
                self.closing_text[i] = found.group(1)
        self.string_step = self._mask(lambda t: _CONTENT_RE.fullmatch(t) is not None)
        self.string_step[list(self.closing_text)] = True
        self.digit_ids = [i for i, t in enumerate(self.texts) if t and all(c in _DIGITS for c in t)]
        self.ends_number = self._mask(lambda t: t[0] in ",]}")
        self._consistent: dict[str, Any] = {}
        self._costs: dict[str, int] = {}

    def generate(self, prompt_ids: Any, schema: Schema, max_tokens: int) -> tuple[str, int, str]:
        """Return the reply, completion tokens and finish reason (``length`` when cut short)."""
        minimal_json(schema)  # raises UnsupportedSchema before any work
        run = _Run(self, prompt_ids, max_tokens)
        run.value(schema, after="")
        run.flush()
        return "".join(run.out), run.used, "length" if run.cut else "stop"

    def consistent(self, option: str) -> Any:
        """Mask of tokens that could begin writing ``option``: its prefixes, or it and more."""
        if option not in self._consistent:
            self._consistent[option] = self._mask(lambda t: option.startswith(t) or t.startswith(option))
        return self._consistent[option]

    def cost(self, text: str) -> int:
        if text not in self._costs:
            self._costs[text] = len(self.tokenizer.encode(text, add_special_tokens=False))
        return self._costs[text]

    def ids_mask(self, ids: Sequence[int]) -> Any:
        mask = self.torch.zeros(len(self.texts), dtype=self.torch.bool)
        mask[list(ids)] = True
        return mask

    def _mask(self, keep: Callable[[str], bool]) -> Any:
        return self.torch.tensor([bool(t) and keep(t) for t in self.texts])


class _Run:
    """One reply being decoded: the model's cache, the text so far and the token budget."""

    def __init__(self, decoder: GuidedDecoder, prompt_ids: Any, max_tokens: int) -> None:
        from transformers import DynamicCache

        self.d = decoder
        self.torch = decoder.torch
        self.cache = DynamicCache()
        self.budget = max_tokens
        self.used = 0
        self.pending = ""  # literal text written but not yet fed to the model
        self.out: list[str] = []
        self.cut = False
        self.logits: Any = None
        self._feed([int(i) for i in prompt_ids[0]])
        self.used = 0  # the prompt is not completion

    # -- the schema walk -----------------------------------------------------------------------

    def value(self, schema: Schema, after: str) -> None:
        """Write one value for ``schema``; ``after`` is the cheapest text that must still follow it."""
        if "const" in schema:
            self.emit(_dumps(schema["const"]))
            return
        if "enum" in schema:
            self.choose([_dumps(v) for v in schema["enum"]])
            return
        kind, nullable = _kind(schema)
        if nullable:
            inner = {**schema, "type": kind}
            room = self.fits(minimal_json(inner) + after, extra=2)
            wanted = self.pick([self.d.consistent("null"), self.opener(inner)]) == 1
            if not (wanted and room):
                self.cut |= wanted  # the model wanted a value, but it would not fit
                self.emit("null")
                return
            schema = inner
        if kind == "object":
            self.obj(schema, after)
        elif kind == "array":
            self.array(schema, after)
        elif kind == "string" and "pattern" in schema:
            self.patterned(schema["pattern"])
        elif kind == "string":
            self.string(after)
        elif kind == "integer":
            self.integer(schema, after)
        elif kind == "boolean":
            self.choose(["true", "false"])
        else:
            self.emit("null")

    def obj(self, schema: Schema, after: str) -> None:
        fields = list(schema.get("properties", {}).items())
        self.emit("{")
        for n, (key, sub) in enumerate(fields):
            comma, colon = self.d.item_separator, self.d.key_separator
            self.emit((comma if n else "") + _dumps(key) + colon)
            rest = "".join(f"{comma}{_dumps(k)}{colon}{minimal_json(v)}" for k, v in fields[n + 1 :])
            self.value(sub, rest + "}" + after)
        self.emit("}")

    def array(self, schema: Schema, after: str) -> None:
        item = schema["items"]
        low = int(schema.get("minItems", 0))
        high = max(low, min(int(schema.get("maxItems", MAX_ARRAY_ITEMS)), MAX_ARRAY_ITEMS))
        self.emit("[")
        count = 0
        while count < high:
            if count >= low:
                go_on = self.opener(item) if count == 0 else self.d.consistent(",")
                if self.pick([self.d.consistent("]"), go_on]) == 0:
                    break
                need = (self.d.item_separator if count else "") + minimal_json(item) + "]" + after
                if not self.fits(need, extra=_room(item)):
                    self.cut = True  # the model wanted another item, but it would not fit
                    break
            self.emit(self.d.item_separator if count else "")
            self.value(item, "]" + after)
            count += 1
        self.emit("]")

    def string(self, after: str) -> None:
        self.emit('"')
        self.flush()
        written = 0
        while written < MAX_STRING_CHARS:
            if not self.fits('"' + after, extra=1):
                self.cut = True
                break
            token = self.best(self.d.string_step)
            if token in self.d.closing_text:
                self.emit(self.d.closing_text[token] + '"')
                return
            self._feed([token])
            self.out.append(self.d.texts[token])
            written += len(self.d.texts[token])
        self.emit('"')

    def integer(self, schema: Schema, after: str) -> None:
        low, high = int(schema.get("minimum", 0)), int(schema.get("maximum", 10**MAX_INT_DIGITS - 1))
        if not self.fits(after, extra=2):
            self.cut = True
            self.emit(str(low))
            return
        self.flush()
        digits = ""  # a number is short: once begun, it is finished whatever the budget
        while len(digits) < MAX_INT_DIGITS:
            allowed = [i for i in self.d.digit_ids if _viable(digits + self.d.texts[i], low, high)]
            if not allowed:
                break
            mask = self.d.ids_mask(allowed)
            if digits and low <= int(digits):
                mask |= self.d.ends_number
            token = self.best(mask)
            if not self.d.texts[token][0].isdigit():
                break
            self._feed([token])
            self.out.append(self.d.texts[token])
            digits += self.d.texts[token]

    def patterned(self, pattern: str) -> None:
        self.emit('"')
        for text, n in _pattern(pattern):
            self.emit(text)
            for _ in range(n):
                self.choose(list(_DIGITS))
        self.emit('"')

    # -- choosing among options ------------------------------------------------------------------

    def choose(self, options: Sequence[str]) -> str:
        """Write the option the model prefers, deciding token by token where options share a start."""
        typed = ""
        alive = list(options)
        while True:
            shared = _common_prefix([o[len(typed) :] for o in alive])
            self.emit(shared)
            typed += shared
            for option in alive:
                if option == typed:
                    return option
            masks = [self.d.consistent(o[len(typed) :]) for o in alive]
            winner = alive[self.pick(masks)]
            token = self.d.texts[self.best(masks[alive.index(winner)])]
            alive = [
                o for o in alive if o[len(typed) :].startswith(token) or token.startswith(o[len(typed) :])
            ]

    def opener(self, schema: Schema) -> Any:
        """Mask of tokens that could begin a value of ``schema``."""
        if "const" in schema or "enum" in schema:
            values = [schema["const"]] if "const" in schema else list(schema["enum"])
            masks = [self.d.consistent(_dumps(v)) for v in values]
            mask = masks[0]
            for other in masks[1:]:
                mask = mask | other
            return mask
        kind, nullable = _kind(schema)
        if nullable:
            return self.d.consistent("null") | self.opener({**schema, "type": kind})
        if kind == "integer":
            return self.d.ids_mask(self.d.digit_ids)
        if kind == "boolean":
            return self.d.consistent("true") | self.d.consistent("false")
        return self.d.consistent({"object": "{", "array": "[", "string": '"', "null": "null"}[kind])

    def pick(self, masks: Sequence[Any]) -> int:
        """The index of the mask holding the model's best next token."""
        self.flush()
        scores = [float(self.logits.masked_fill(~m, float("-inf")).max()) for m in masks]
        return max(range(len(masks)), key=lambda n: scores[n])

    def best(self, mask: Any) -> int:
        self.flush()
        return int(self.logits.masked_fill(~mask, float("-inf")).argmax())

    # -- text, tokens and budget -----------------------------------------------------------------

    def emit(self, text: str) -> None:
        """Write literal text; it is fed to the model before the next decision."""
        self.pending += text
        self.out.append(text)

    def flush(self) -> None:
        if self.pending:
            self._feed(self.d.tokenizer.encode(self.pending, add_special_tokens=False))
            self.pending = ""

    def fits(self, closing: str, extra: int) -> bool:
        """Whether ``extra`` more tokens, then ``closing``, still fit in the budget."""
        needed = self.d.cost(self.pending) + extra + self.d.cost(closing) + SAFETY_TOKENS
        return self.used + needed <= self.budget

    def _feed(self, ids: Sequence[int]) -> None:
        with self.torch.inference_mode():
            output = self.d.model(
                input_ids=self.torch.tensor([list(ids)]), cache=self.cache, use_cache=True, logits_to_keep=1
            )
        self.logits = output.logits[0, -1].float()
        self.used += len(ids)


def _kind(schema: Schema) -> tuple[str, bool]:
    """The schema's one non-null type, and whether ``null`` is allowed too."""
    declared = schema.get("type")
    names = [declared] if isinstance(declared, str) else list(declared or [])
    others = [n for n in names if n != "null"]
    if len(others) > 1 or any(n not in _TYPES for n in names) or not names:
        raise UnsupportedSchema(f"type {declared!r} is not supported (one type, optionally with null)")
    return (others[0], "null" in names) if others else ("null", False)


def _pattern(pattern: str) -> list[tuple[str, int]]:
    """An anchored pattern as (literal text, digits that follow) steps; raises if it is not that simple."""
    if not (pattern.startswith("^") and pattern.endswith("$")):
        raise UnsupportedSchema(f"pattern {pattern!r} must be anchored with ^ and $")
    body, steps, at = pattern[1:-1], [("", 0)], 0
    while at < len(body):
        found = _PATTERN_PART_RE.match(body, at)
        if found is None:
            raise UnsupportedSchema(
                f"pattern {pattern!r}: only literals, \\d, \\d{{n}} and [0-9] are supported"
            )
        count, bracket_count, escaped, plain = found.groups()
        literal, (text, n) = escaped or plain, steps[-1]
        if literal is None:
            steps[-1] = (text, n + int(count or bracket_count or 1))
        elif n:
            steps.append((literal, 0))
        else:
            steps[-1] = (text + literal, 0)
        at = found.end()
    return steps


def _room(item: Schema) -> int:
    kind = "enum" if "enum" in item or "const" in item else _kind(item)[0]
    return ITEM_ROOM_TOKENS.get(kind, 2)


def _viable(digits: str, low: int, high: int) -> bool:
    """Whether ``digits`` (no leading zero) is, or can grow into, a number in ``low``-``high``."""
    if digits.startswith("0"):
        return digits == "0" and low <= 0
    value = int(digits)
    for extra in range(MAX_INT_DIGITS - len(digits) + 1):
        scale = 10**extra
        if value * scale <= high and value * scale + scale - 1 >= low:
            return True
    return False


def _common_prefix(texts: Sequence[str]) -> str:
    shortest = min(texts, key=len)
    for n, char in enumerate(shortest):
        if any(t[n] != char for t in texts):
            return shortest[:n]
    return shortest


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
