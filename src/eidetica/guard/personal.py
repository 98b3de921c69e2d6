"""Personal data and secrets in text: find them and mask them, by rules, offline.

A memory keeps every turn verbatim, so a card number or an API key said once in chat would come
back in every later context that retrieves it. This module finds, with precompiled regular
expressions and checksums (no model, no network):

- **email**: ``name@domain.tld``;
- **phone**: international (``+CC ...``, ``00CC ...``), North American (``(415) 555-2671``),
  national numbers with a trunk ``0`` (``020 7946 0958``, ``06 12 34 56 78``), and a run of 8 to
  15 digits right after a word such as "phone", "mobile", "call" or "my number"; never a date, a
  time, opening hours (``0900-1700``), a year, an amount or a version, and at least 8 digits (9
  for a national number with a trunk ``0``);
- **card**: 13 to 19 digits, grouped by spaces or dashes or not, opening with 2-6 (the industry
  digits of payment cards) and passing the Luhn check;
- **iban**: a known country's code and length, spaces allowed, passing the mod-97 check;
- **national_id**: a US SSN (``123-45-6789``, area not 000, 666 or 9xx), a UK National Insurance
  number (its letter rules), a Spanish DNI or NIE (its check letter), and a Dutch BSN (its 11-proof,
  only after "BSN", since one 9-digit number in 11 passes it by chance);
- **password**: the value in "password: xyz", "my password is xyz", "pwd=xyz", "PIN 4821" (a
  PIN only when it is digits), not a word that describes it ("my password is wrong", "...
  is deleted") nor a placeholder ("********");
- **secret**: API keys and tokens by their issuers' prefixes (``sk-``, ``ghp_``, ``gho_``,
  ``github_pat_``, ``xoxb-``, ``AKIA``, ``AIza``, a JWT ``eyJ...`` with two dots), the value after
  "api key:" or "token=", and any other run of at least 24 characters that mixes letters and
  digits inside one piece of 10 or more, is not mostly words, and has a Shannon entropy of at
  least 3.5 bits a character;
- **ip_address**: IPv4, each part at most 255, not right after "version" or "build", and not
  loopback (``127.x.x.x``) or ``0.0.0.0``, which name no one's machine.

The entropy rule skips two kinds of identifier that are no credential and are common in chat
between developers: a 40-character hex string (a git commit, which a person quotes to point at a
change) and a canonical UUID (a record's id). Any other hex string (an MD5 or SHA-256 digest,
many API keys, a private key) is judged like any token: hex has at most 4 bits a character, so
some pass the entropy bar and some do not.

What the rules miss: a value said before the word that names it ("I use hunter2 as my
password"), all but the first word of a passphrase, ten bare digits with no word such as "phone"
near them (they read as an order number as often as a phone number), a random key shorter than 24
characters with no "key:" before it, and personal data without a checksum or a shape (names,
addresses, birth dates), which a memory needs to keep anyway.

The rules are our own because the maintained library (presidio-analyzer) needs a spaCy language
model downloaded at run time. ``find_personal_data`` takes about 3 µs a turn of real chat (10,000
turns cycled from LoCoMo's 2,760, in which it finds nothing) and about 15 µs a sentence over
10,000 generated sentences that nearly all hold numbers and half of them personal data: on a
shared 2-core x86-64 machine with Python 3.11, by ``benchmarks/pii.py``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

#: Every kind a finding can have.
KINDS = ("email", "phone", "card", "iban", "national_id", "password", "secret", "ip_address")


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: its kind, where it lies in the text, and the text itself."""

    kind: str
    start: int
    end: int
    text: str


Span = tuple[int, int]

_DIGIT = re.compile(r"\d")
# Six digits with at most one mark between each two: every number rule but the IPv4 one needs it.
_LONG_NUMBER = re.compile(r"\d(?:[ .()/-]?\d){5}")
# A number that goes on from digits before it ("1428 9727 0979 5905") is not one on its own.
_NOT_AFTER_DIGITS = r"(?<!\d[ .-])"
# What may not touch a number on either side: a letter or digit, or a punctuation mark followed
# by a digit (so "1,200", "3.2.1" and "2023-04-05" are read whole, never in part).
_NUM_END = r"(?!\w|[.,/:-]\d)"

_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?![\w-])")

# A pattern that opens with a lookahead on its first character is searched for that character
# first; one that opens with lookbehinds tests them at every position (three times slower here).
_PHONE = re.compile(
    rf"""(?=[+(0-9]){_NOT_AFTER_DIGITS}(?:
        (?<![\w+])(?P<intl>\+\d{{1,3}}+(?:[ .-]?\(\d{{1,4}}\))?(?:[ .-]?\d++){{1,6}})
      | (?<![\w+.,/-])(?P<nanp>(?:1[ .-]?)?(?:\([2-9]\d\d\)[ .-]?|[2-9]\d\d[ .-])[2-9]\d\d[ .-]\d{{4}})
      | (?<![\w+.,/-])(?P<nat>(?:\(0\d{{1,4}}\)|0\d{{1,4}}+)(?:[ ./-]?\d++){{1,5}})
    ){_NUM_END}""",
    re.X,
)
# Words after which a bare run of digits is a phone number; "number" alone is not one of them
# ("order number"), but "my number" is.
_PHONE_CLUE = re.compile("phone|mobile|cell|tel|whatsapp|fax|call|text|ring|my number|my new number|reach me")
_PHONE_WORD = re.compile(
    rf"""(?=[cfmprtwCFMPRTW])\b(?i:phone|mobile|cell|cellphone|tel|telephone|whatsapp|fax|call|text|ring
        |my\ (?:new\ )?number|reach\ me)\b
    [^\d\n]{{0,24}}?(?<![\w+])(?P<v>\d(?:[ .-]?\d){{7,14}}){_NUM_END}""",
    re.X,
)
_DATE_LIKE = re.compile(r"\d{1,2}([./-])\d{1,2}\1\d{2,4}|\d{4}([./-])\d{1,2}\2\d{1,2}")
# Opening hours written as two 24-hour times: "0900-1700".
_HOURS = re.compile(r"(?:[01]\d|2[0-3])[0-5]\d ?- ?(?:[01]\d|2[0-3])[0-5]\d")

_CARD = re.compile(rf"(?<![\w.,/-]){_NOT_AFTER_DIGITS}[2-6]\d(?:[ -]?\d){{11,17}}{_NUM_END}")

_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,32}")
#: IBAN length by country (the SWIFT IBAN registry); a code not here is no IBAN.
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip

_SSN = re.compile(
    rf"(?<![\w-]){_NOT_AFTER_DIGITS}(?!000|666|9)\d{{3}}([- ])(?!00)\d{{2}}\1(?!0000)\d{{4}}"
    r"(?![\w-]|[.,/:]\d)"
)
# First letter not D F I Q U V, second not D F I O Q U V, and none of the pairs never issued;
# either case. The letters come before the checks on what precedes them, so that the search
# skips ahead to a letter pair instead of testing every position (twice as fast).
_NINO = re.compile(
    r"[A-CEGHJ-PR-TW-Za-ceghj-pr-tw-z][A-CEGHJ-NPR-TW-Za-ceghj-npr-tw-z]"
    r"(?<![A-Za-z0-9]..)(?<!(?i:BG|GB|KN|NK|NT|TN|ZZ))"
    r" ?\d{2} ?\d{2} ?\d{2} ?[A-Da-d](?![A-Za-z0-9])"
)
_DNI = re.compile(r"(?<![\w-])(?P<prefix>[XYZ]?)(?P<number>\d{7,8})[- ]?(?P<letter>[A-Za-z])(?!\w)")
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
_BSN = re.compile(
    r"\b(?i:bsn|burgerservicenummer|sofinummer)\b\D{0,20}?"
    r"(?<!\d)(?P<v>\d{9}|\d{4}\.\d{2}\.\d{3})(?![\w.]\d|\w)"
)

_PASSWORD = re.compile(
    r"""\b(?P<kw>pass(?:word|wd|code|phrase)?|pwd|pw|pin(?:\ ?code)?)s?\b
    (?:\s+(?:for|to|on|of)(?:\s+[\w.@'-]+){1,3}?)?
    (?P<sep>\s*[:=]\s*|\s+(?:is|was)(?:\s+(?:now|still))?:?\s+|\ (?=\d))
    ["'“‘]?(?P<v>[^\s"'“”‘’]+)""",
    re.X | re.I,
)
#: Words that describe a password rather than being one ("my password is wrong").
_NOT_A_PASSWORD = frozenset(
    """a an the my your his her our their its this that what which there here not no too very so
    wrong right correct incorrect invalid valid strong weak secure insecure safe unsafe same
    different expired required needed necessary missing empty blank long short changed reset
    saved stored written encrypted hashed hidden case still now also just really being been easy
    hard simple forgotten lost ok okay fine good bad great something nothing unknown set in on at
    for to of and or gone mine yours unique old new temporary random private personal public
    useless complex about like due supposed somewhere""".split()
)
# Participles and adverbs: "my password is deleted", "expiring", "probably ...".
_DESCRIBING_ENDINGS = ("ed", "ing", "ly", "able", "ible")
_KEYED_SECRET = re.compile(
    r"""(?=[abstABST])(?<![A-Za-z0-9])(?i:api[_\ -]?key|access[_\ -]?key|secret(?:[_\ -]?key)?
        |(?:auth[_\ -]?|access[_\ -]?)?token|bearer)
    (?:\s*[:=]\s*|\s+(?:is|was)\s+|\s+)["']?(?P<v>[A-Za-z0-9_\-+/=.]{12,}?)["']?(?![A-Za-z0-9_\-+/=])""",
    re.X,
)
_PREFIXED_SECRET = re.compile(
    r"""(?<![A-Za-z0-9_-])(?:
        sk-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_-]{20,}
      | gh[pousr]_[A-Za-z0-9]{30,}
      | github_pat_[A-Za-z0-9_]{22,}
      | xox[bpas]-[A-Za-z0-9-]{10,}
      | (?:AKIA|ASIA)[0-9A-Z]{16}
      | AIza[0-9A-Za-z_-]{35}
      | eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}
    )(?![A-Za-z0-9_-])""",
    re.X,
)
# Base64 keeps "=" for padding at the end; inside a token it is an assignment ("KEY=value").
_TOKEN = re.compile(r"(?<![A-Za-z0-9_+/-])[A-Za-z0-9_+/-]{24,}={0,2}(?![A-Za-z0-9_+/=-])")
_TOKEN_PIECE = re.compile(r"[A-Za-z0-9]{10,}")
_HEX40 = re.compile(r"[0-9a-fA-F]{40}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# A word inside an identifier: "Case" in "CamelCase2024", "main" in "blob/main/src2".
_WORD_IN_TOKEN = re.compile(r"[A-Z]?[a-z]{3,}")
#: A token this much made of words is an identifier or a path, not a key; random letters and
#: digits reach it in about 3% of 24-character tokens and 1.5% of 32-character ones.
MAX_WORD_SHARE = 0.6
_HAS_LETTER_AND_DIGIT = re.compile(r"(?=.*[A-Za-z])(?=.*\d)", re.S)
#: Below this many bits a character, a long token reads as words or a pattern, not as random.
MIN_ENTROPY = 3.5

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
# A port (":8080") or a prefix length ("/24") may follow an address.
_IPV4 = re.compile(rf"(?<![\w.])(?:{_OCTET}\.){{3}}{_OCTET}(?!\w|\.\d)")
_VERSION_WORD = re.compile(r"\b(?i:version|release|build|ver\.?|v)\s*$")


def find_personal_data(text: str) -> list[Finding]:
    """Find the personal data and secrets in ``text``: non-overlapping findings, in text order.

    Where two rules claim overlapping text, the one ``_candidates`` yields first wins (a checksum
    or a known prefix over a shape). A span of kind ``""`` is claimed by no finding, only so that
    no later rule reads part of it.
    """
    taken: list[tuple[int, int, str]] = []
    for kind, spans in _candidates(text):
        for start, end in spans:
            if all(end <= s or start >= e for s, e, _ in taken):
                taken.append((start, end, kind))
    taken.sort()
    return [Finding(kind, start, end, text[start:end]) for start, end, kind in taken if kind]


def mask(text: str, findings: Sequence[Finding] | None = None) -> str:
    """Replace each finding in ``text`` by its kind in brackets: ``[email]``, ``[card]``, ...

    ``findings`` defaults to ``find_personal_data(text)``; of overlapping ones, the first wins.
    """
    if findings is None:
        findings = find_personal_data(text)
    parts: list[str] = []
    position = 0
    for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
        if finding.start < position:
            continue
        parts.append(text[position : finding.start])
        parts.append(f"[{finding.kind}]")
        position = finding.end
    parts.append(text[position:])
    return "".join(parts)


def _emails(text: str) -> Iterator[Span]:
    if "@" in text:
        for match in _EMAIL.finditer(text):
            yield match.span()


def _phones(text: str, lowered: str) -> Iterator[Span]:
    for match in _PHONE.finditer(text):
        if _phone_ok(match):
            yield match.span()
    if _PHONE_CLUE.search(lowered):
        for match in _PHONE_WORD.finditer(text):
            number = match.group("v")
            if not (_DATE_LIKE.fullmatch(number) or _HOURS.fullmatch(number)):
                yield match.span("v")


def _phone_ok(match: re.Match[str]) -> bool:
    """Whether a number shaped like a phone number has a phone number's length and is no date."""
    number = match.group()
    digits = sum(map(str.isdigit, number))
    if match.group("intl"):
        return 8 <= digits <= 15
    if match.group("nanp"):
        return True
    if _DATE_LIKE.fullmatch(number):
        return False
    formatted = not number.isdigit()
    if number.lstrip("(").startswith("00"):
        # An international call prefix: "0044 20 7946 0958", written in groups.
        return formatted and 11 <= digits <= 17 and number.lstrip("(")[2] != "0"
    return 9 <= digits <= 12 if formatted else digits in (10, 11)


def _cards(text: str) -> Iterator[Span]:
    for match in _CARD.finditer(text):
        digits = [int(c) for c in match.group() if c.isdigit()]
        if _luhn(digits):
            yield match.span()


def _luhn(digits: list[int]) -> bool:
    """The Luhn check: doubling every second digit from the right, the sum ends in 0."""
    total = 0
    for i, digit in enumerate(reversed(digits)):
        if i % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _ibans(text: str) -> tuple[list[Span], list[Span]]:
    """The IBANs in ``text``, and the strings shaped like one that fail the mod-97 check."""
    ibans: list[Span] = []
    failed: list[Span] = []
    position = 0
    while match := _IBAN.search(text, position):
        span = _iban_span(text, match)
        if span is None:
            position = match.start() + 1
            continue
        (ibans if _mod97(text[span[0] : span[1]]) else failed).append(span)
        position = span[1]
    return ibans, failed


def _iban_span(text: str, match: re.Match[str]) -> Span | None:
    """The IBAN-shaped string a candidate opens with, cut to its country's length.

    The candidate may run on into the words after it ("... 0130 00 IT desk"), so it is cut
    where its country's length ends, and that end must not fall inside a word.
    """
    raw = match.group()
    length = _IBAN_LENGTHS.get(raw[:2].upper())
    if length is None:
        return None
    count = 0
    for i, char in enumerate(raw):
        count += char != " "
        if count == length:
            end = match.start() + i + 1
            break
    else:
        return None
    if end < len(text) and text[end].isalnum():
        return None
    return match.start(), end


def _mod97(iban: str) -> bool:
    """The IBAN check: country and check digits moved to the end, letters as 10-35, mod 97 is 1."""
    compact = iban.replace(" ", "").upper()
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _national_ids(text: str, lowered: str) -> Iterator[Span]:
    for match in _SSN.finditer(text):
        yield match.span()
    for match in _NINO.finditer(text):
        yield match.span()
    for match in _DNI.finditer(text):
        if _dni_ok(match):
            yield match.span()
    if "bsn" in lowered or "burgerservicenummer" in lowered or "sofinummer" in lowered:
        for match in _BSN.finditer(text):
            if _bsn_ok(match.group("v")):
                yield match.span("v")


def _dni_ok(match: re.Match[str]) -> bool:
    """Spain's DNI (8 digits) or NIE (X, Y or Z and 7 digits): the letter is the number mod 23."""
    prefix, number = match.group("prefix"), match.group("number")
    if len(number) != (7 if prefix else 8):
        return False
    value = int(str("XYZ".index(prefix)) + number if prefix else number)
    return _DNI_LETTERS[value % 23] == match.group("letter").upper()


def _bsn_ok(number: str) -> bool:
    """The Dutch 11-proof: digits weighted 9 down to 2, the last by -1, sum to a multiple of 11."""
    digits = [int(c) for c in number if c.isdigit()]
    total = sum(d * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True))
    return total % 11 == 0 and total != 0


def _passwords(text: str) -> Iterator[Span]:
    for match in _PASSWORD.finditer(text):
        keyword, separator = match.group("kw").lower(), match.group("sep").strip()
        value = match.group("v").rstrip(".,;:?)]}\"'”’")
        if not any(c.isalnum() for c in value):
            # "********", "...": a placeholder, not a password.
            continue
        if keyword.startswith("pin"):
            # A PIN is digits: "the pin on the map is wrong" names none.
            if not (value.isdigit() and 4 <= len(value) <= 8):
                continue
        elif not separator:
            # Only a PIN follows its word with no mark between ("PIN 4821").
            continue
        elif separator not in (":", "=") and (keyword in ("pass", "pw") or _describes(value)):
            # "pass" or "pw" alone names a password only before ":" or "=" ("the pass is closed"),
            # and after "is" a word may describe one ("my password is wrong").
            continue
        start = match.start("v")
        yield start, start + len(value)


def _describes(value: str) -> bool:
    """Whether the word after "password is" describes it ("wrong", "deleted") instead of being it."""
    if not (value.isalpha() and value.islower()):
        return False
    return value in _NOT_A_PASSWORD or value.endswith(_DESCRIBING_ENDINGS)


def _keyed_secrets(text: str) -> Iterator[Span]:
    for match in _KEYED_SECRET.finditer(text):
        value = match.group("v").rstrip(".")
        if _HAS_LETTER_AND_DIGIT.match(value) and len(value) >= 12:
            start = match.start("v")
            yield start, start + len(value)


def _prefixed_secrets(text: str) -> Iterator[Span]:
    for match in _PREFIXED_SECRET.finditer(text):
        # "sk-" also opens hyphenated words ("sk-learn-..."); a key's random body has digits.
        if not match.group().startswith("sk-") or _HAS_LETTER_AND_DIGIT.match(match.group()):
            yield match.span()


def _random_tokens(text: str) -> Iterator[Span]:
    for match in _TOKEN.finditer(text):
        token = match.group()
        if _looks_random(token):
            yield match.span()


def _looks_random(token: str) -> bool:
    """Whether a long token reads as a key: letters and digits mixed, not words, high entropy.

    A piece of 10 or more characters between separators must mix letters and digits, so that a
    slug ("how-to-train-your-dragon-2019") or a long identifier ("backup_2023_final_v2") is no
    secret; and words must not make up most of it ("CamelCaseName2024", "repo/blob/main/a2b").
    """
    if _HEX40.fullmatch(token) or _UUID.fullmatch(token):
        return False
    if not any(_HAS_LETTER_AND_DIGIT.match(piece) for piece in _TOKEN_PIECE.findall(token)):
        return False
    if sum(map(len, _WORD_IN_TOKEN.findall(token))) >= MAX_WORD_SHARE * len(token):
        return False
    return _entropy(token) >= MIN_ENTROPY


def _entropy(text: str) -> float:
    """Shannon entropy of the characters of ``text``, in bits a character."""
    size = len(text)
    return -sum(n / size * math.log2(n / size) for n in Counter(text).values())


def _ip_addresses(text: str) -> Iterator[Span]:
    for match in _IPV4.finditer(text):
        address = match.group()
        if address.startswith("127.") or address == "0.0.0.0":
            # Loopback and "every interface" name no one's machine.
            continue
        if not _VERSION_WORD.search(text, max(0, match.start() - 10), match.start()):
            yield match.span()


def _candidates(text: str) -> Iterator[tuple[str, Iterator[Span]]]:
    """Each rule's spans, strongest evidence first, skipping the rules whose clue the text lacks.

    Most chat holds no long number and none of the words a password or a key follows, so cheap
    tests (a digit, six digits close together, three dots, a word) spare most of the patterns.
    """
    lowered = text.lower()
    if "@" in text:
        yield "email", _emails(text)
    has_digit = _DIGIT.search(text) is not None
    if has_digit or "AKIA" in text or "ASIA" in text:
        yield "secret", _prefixed_secrets(text)
    if "pass" in lowered or "pw" in lowered or "pin" in lowered:
        yield "password", _passwords(text)
    if not has_digit:
        return
    if "key" in lowered or "secret" in lowered or "token" in lowered or "bearer" in lowered:
        yield "secret", _keyed_secrets(text)
    if _LONG_NUMBER.search(text):
        ibans, failed = _ibans(text)
        yield "iban", iter(ibans)
        # An IBAN that fails its check is no IBAN, and no part of it a number of its own.
        yield "", iter(failed)
        yield "card", _cards(text)
        yield "national_id", _national_ids(text, lowered)
        yield "phone", _phones(text, lowered)
    if text.count(".") >= 3:
        yield "ip_address", _ip_addresses(text)
    yield "secret", _random_tokens(text)
