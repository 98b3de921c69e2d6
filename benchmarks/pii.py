"""Measure the personal-data detector on generated chat: precision and recall per kind, and speed.

    python benchmarks/pii.py [--out benchmarks/results] [--seed 7] [--per-kind 40] [--negatives 360]
                             [--chat PATH_TO_LOCOMO_JSON]

Sentences are generated from a seeded random generator (no dataset, no network): for each kind
of personal data, ``--per-kind`` sentences that hold one value of it, in varied templates and
positions, often beside a distractor (a date, a time, an amount, a version); then
``--negatives`` sentences that hold none, among them the numbers chat is full of (dates, times,
money, versions, years, street and order numbers, ratings, ISBNs, git commits) and checksum
failures (a 16-digit number failing Luhn, an IBAN failing mod 97, an SSN with area 000).

A finding counts as found when it has the value's kind and overlaps it; "exact" counts those whose
span is the value's. Every other finding is a false positive of its kind.

Speed is the mean time of ``find_personal_data`` (best of three passes) over 10,000 sentences
drawn from the same set, where nearly every sentence holds a number (the slow case), and, when
the LoCoMo file is there, over 10,000 turns of real chat, whose findings are listed too (each
one a false positive or a real leak). Writes ``pii.json``.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import string
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from eidetica.guard.personal import KINDS, Finding, find_personal_data

SPEED_SENTENCES = 10_000
DEFAULT_CHAT = Path(__file__).resolve().parents[2] / "shared" / "data" / "locomo" / "locomo10_dev.json"

FIRST = ["jane", "omar", "li", "priya", "marco", "sven", "aisha", "tom", "yuki", "carlos", "ines", "kofi"]
LAST = ["doe", "haddad", "wang", "patel", "rossi", "berg", "khan", "miller", "sato", "ruiz", "novak"]
DOMAINS = ["example.com", "mail.example.org", "proton.me", "gmail.com", "uni-hamburg.de", "acme.co.uk"]
WORDS = ["sunflower", "tiger", "maple", "river", "falcon", "cobalt", "orange", "winter", "pixel", "harbor"]

#: Fragments chat is full of that hold no personal data, mixed into both kinds of sentence.
DISTRACTORS = [
    "on 2023-04-05",
    "at 14:30",
    "around 9:15am",
    "for $1,450",
    "after updating to 3.2.1",
    "back in 1999",
    "at 221 Baker Street",
    "about Order 88213",
    "in room B214",
    "with a chess rating of 1450",
    "on 05.04.2023",
    "between 0900-1700",
    "on 12/03/2024",
    "for about €1.200,00",
    "with 10,000 steps",
    "on Python 3.11.7",
    "(score 3-2)",
    "at gate A12",
]


@dataclass(frozen=True)
class Sample:
    """One generated sentence and the personal data it holds: (kind, start, end) spans."""

    text: str
    truth: tuple[tuple[str, int, int], ...]


def _digits(r: random.Random, n: int) -> str:
    return "".join(r.choice(string.digits) for _ in range(n))


def _luhn_digit(body: str) -> str:
    """The check digit that makes ``body`` + it pass the Luhn check."""
    total = 0
    for i, char in enumerate(reversed(body)):
        digit = int(char)
        if i % 2 == 0:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str(-total % 10)


def email(r: random.Random) -> str:
    first, last = r.choice(FIRST), r.choice(LAST)
    local = r.choice(
        [f"{first}.{last}", f"{first}{r.randint(1, 99)}", f"{first[0]}{last}", f"{first}_{last}"]
    )
    return f"{local}@{r.choice(DOMAINS)}"


def phone(r: random.Random) -> str:
    def d(n: int) -> str:
        return _digits(r, n)

    def area() -> str:
        return f"{r.randint(2, 9)}{d(2)}"

    return r.choice(
        [
            f"+44 20 {d(4)} {d(4)}",
            f"+44 7{d(3)} {d(6)}",
            f"+1 ({area()}) {area()}-{d(4)}",
            f"+1-{area()}-{area()}-{d(4)}",
            f"({area()}) {area()}-{d(4)}",
            f"{area()}-{area()}-{d(4)}",
            f"{area()}.{area()}.{d(4)}",
            f"+33 6 {d(2)} {d(2)} {d(2)} {d(2)}",
            f"06 {d(2)} {d(2)} {d(2)} {d(2)}",
            f"07{d(3)} {d(6)}",
            f"020 {d(4)} {d(4)}",
            f"+49 30 {d(8)}",
            f"030 {d(7)}",
            f"+91 9{d(4)} {d(5)}",
            f"+34 6{d(2)} {d(3)} {d(3)}",
            f"0044 20 {d(4)} {d(4)}",
            f"+61 4{d(2)} {d(3)} {d(3)}",
            f"+44 (0)20 {d(4)} {d(4)}",
            # Ten bare digits: a phone number only beside a word such as "phone" or "call".
            f"{area()}{area()}{d(4)}",
        ]
    )


def bare_phone(r: random.Random) -> str:
    """A number with no ``+`` and no trunk ``0``: a phone only beside a word such as "mobile"."""
    return r.choice([f"6{_digits(r, 2)} {_digits(r, 3)} {_digits(r, 3)}", f"9{_digits(r, 8)}"])


def card(r: random.Random) -> str:
    prefix, length, groups = r.choice(
        [
            ("4", 16, (4, 4, 4, 4)),
            (str(r.randint(51, 55)), 16, (4, 4, 4, 4)),
            ("2221", 16, (4, 4, 4, 4)),
            (r.choice(["34", "37"]), 15, (4, 6, 5)),
            ("6011", 16, (4, 4, 4, 4)),
            ("4", 13, (4, 4, 5)),
            ("35", 16, (4, 4, 4, 4)),
        ]
    )
    body = prefix + _digits(r, length - len(prefix) - 1)
    number = body + _luhn_digit(body)
    return _group(number, groups, r.choice([" ", " ", "-", ""]))


def _group(text: str, sizes: tuple[int, ...], separator: str) -> str:
    parts, position = [], 0
    for size in sizes:
        parts.append(text[position : position + size])
        position += size
    return separator.join(parts)


#: Country, then how to draw its BBAN: "n" a digit, "a" a capital letter.
IBAN_SHAPES = {
    "DE": "n" * 18,
    "GB": "aaaa" + "n" * 14,
    "FR": "n" * 23,
    "NL": "aaaa" + "n" * 10,
    "ES": "n" * 20,
    "IT": "a" + "n" * 22,
    "BE": "n" * 12,
    "CH": "n" * 17,
}


def iban(r: random.Random, *, valid: bool = True) -> str:
    country = r.choice(sorted(IBAN_SHAPES))
    bban = "".join(
        r.choice(string.ascii_uppercase if c == "a" else string.digits) for c in IBAN_SHAPES[country]
    )
    numeric = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    check = 98 - numeric % 97
    if not valid:
        check = (check + r.randint(1, 96)) % 97 or 97
    compact = f"{country}{check:02d}{bban}"
    if r.random() < 0.3:
        return compact
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def national_id(r: random.Random) -> str:
    kind = r.choice(["ssn", "nino", "dni", "nie"])
    if kind == "ssn":
        area = r.choice([a for a in range(1, 900) if a != 666])
        sep = r.choice(["-", "-", " "])
        return f"{area:03d}{sep}{r.randint(1, 99):02d}{sep}{r.randint(1, 9999):04d}"
    if kind == "nino":
        first = r.choice("ABCEGHJKLMNOPRSTWXYZ")
        second = r.choice(
            [c for c in "ABCEGHJKLMNPRSTWXYZ" if first + c not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}]
        )
        digits = _digits(r, 6)
        suffix = r.choice("ABCD")
        if r.random() < 0.5:
            return f"{first}{second}{digits}{suffix}"
        return f"{first}{second} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"
    letters = "TRWAGMYFPDXBNJZSQVHLCKE"
    if kind == "dni":
        number = _digits(r, 8)
        return f"{number}{r.choice(['', '-'])}{letters[int(number) % 23]}"
    prefix, number = r.choice("XYZ"), _digits(r, 7)
    return f"{prefix}{number}{letters[int(str('XYZ'.index(prefix)) + number) % 23]}"


def bsn(r: random.Random) -> str:
    """A Dutch citizen service number passing the 11-proof."""
    while True:
        digits = [r.randint(0, 9) for _ in range(8)]
        total = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True))
        last = total % 11
        if last < 10 and total:
            return "".join(map(str, digits)) + str(last)


def password(r: random.Random) -> str:
    word = r.choice(WORDS)
    return r.choice(
        [
            f"{word.capitalize()}!{r.randint(10, 99)}",
            f"{word}{r.randint(1, 9)}",
            f"Tr0ub4dor&{r.randint(1, 9)}",
            f"P@ssw0rd{r.randint(2019, 2026)}",
            f"{word}{r.choice(WORDS)}{r.choice(WORDS)}",
            f"{word.upper()}_{r.randint(100, 999)}",
        ]
    )


def _random_chars(r: random.Random, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(r.choice(alphabet) for _ in range(n))


def _b64(data: str) -> str:
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def secret(r: random.Random) -> str:
    upper = string.ascii_uppercase + string.digits
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}))
    payload = _b64(
        json.dumps({"sub": _digits(r, 10), "name": r.choice(FIRST), "iat": r.randint(10**9, 2 * 10**9)})
    )
    return r.choice(
        [
            "sk-proj-" + _random_chars(r, 40),
            "sk-" + _random_chars(r, 48),
            "ghp_" + _random_chars(r, 36),
            "gho_" + _random_chars(r, 36),
            "github_pat_" + _random_chars(r, 22) + "_" + _random_chars(r, 59),
            f"xoxb-{_digits(r, 12)}-{_digits(r, 13)}-{_random_chars(r, 24)}",
            "AKIA" + _random_chars(r, 16, upper),
            "AIza" + _random_chars(r, 35, string.ascii_letters + string.digits + "-_"),
            f"{header}.{payload}.{_random_chars(r, 43, string.ascii_letters + string.digits + '-_')}",
            _random_chars(r, r.randint(28, 40)),
            # Out of the entropy rule's reach: shorter than 24 characters.
            _random_chars(r, 20),
        ]
    )


def ip_address(r: random.Random) -> str:
    return r.choice(
        [
            f"192.168.{r.randint(0, 255)}.{r.randint(1, 254)}",
            f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}",
            f"{r.randint(1, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}",
        ]
    )


#: Per kind, (value generator, templates); ``{}`` is where the value goes.
POSITIVES = {
    "email": (
        email,
        [
            "Sure, my email is {} if you need it.",
            "{} is the best address to reach me.",
            "Can you forward the invoice to {}?",
            "Write to {}",
            "contact: {} (work)",
            "I changed my login to {} yesterday.",
        ],
    ),
    "phone": (
        phone,
        [
            "You can reach me at {} most evenings.",
            "{} is my number now.",
            "Call the clinic on {} to rebook.",
            "my new number: {}",
            "The plumber's phone is {}, ask for Dave.",
            "If it's urgent try {}",
        ],
    ),
    "card": (
        card,
        [
            "Charge it to my card {} please.",
            "{} is the card I used for the hotel.",
            "The card number is {} and it expires 09/27.",
            "Use card {}",
            "I typed {} into the form but it failed.",
        ],
    ),
    "iban": (
        iban,
        [
            "Please send the deposit to IBAN {}.",
            "{} is our joint account.",
            "My bank details: {}, name Jane Doe.",
            "Transfer the rent to {} by Friday",
            "The landlord's IBAN is {} I think.",
        ],
    ),
    "national_id": (
        national_id,
        [
            "My social security number is {}.",
            "{} is my ID number for the form.",
            "They asked for my national insurance number, {}.",
            "ID: {}",
            "Put {} as the tax id on the contract.",
        ],
    ),
    "password": (
        password,
        [
            "my password is {}",
            "The wifi password is {} by the way.",
            "password: {}",
            "Login is jdoe, pwd={}",
            "The password for the router is {} so don't share it.",
            "I set my passcode to... no wait, my passcode is {}.",
            # Out of the rules' reach: the value before the word that names it.
            "I use {} as my password everywhere, I know.",
        ],
    ),
    "secret": (
        secret,
        [
            "Here's the key: {}",
            "{} is the token for the staging server.",
            "I pasted {} into the config by mistake.",
            "export OPENAI_API_KEY={}",
            "use this one {} for the CI job",
        ],
    ),
    "ip_address": (
        ip_address,
        [
            "The server is at {} behind the firewall.",
            "{} keeps timing out.",
            "ssh into {} and restart it",
            "My home IP is {}.",
            "Ping {} to check.",
            "The dashboard is on {}:8080 now.",
            "Allow {}/32 in the security group.",
        ],
    ),
}
#: Values that only read as personal data beside a word that names them.
CUED = {
    "phone": (bare_phone, ["My mobile is {}.", "call me on {} after work", "Text {} when you land."]),
    "national_id": (bsn, ["My BSN is {}.", "BSN: {}", "burgerservicenummer {} for the gemeente"]),
}

NEGATIVES = [
    "Let's meet on 2023-04-05 at 14:30 near the station.",
    "The rent went up to $1,450 this month.",
    "I upgraded to 3.2.1 and the bug is gone.",
    "We moved there in 1999 and left in 2004.",
    "They live at 221 Baker Street, flat 4.",
    "Order 88213 still hasn't shipped.",
    "The meeting is in room B214.",
    "My chess rating is 1450 now.",
    "It was fixed in commit 3f786850e387550fdab836ed7e6dc881de23001b last week.",
    "I forgot my password again.",
    "My password is wrong, it keeps saying so.",
    "The password is too short, it needs 12 characters.",
    "Passwords must contain a digit.",
    "password: ********",
    "Reset your password from the login page.",
    "Call me at 5 tomorrow.",
    "I'll call around 14:30.",
    "In an emergency call 911.",
    "The office is open 0900-1700 on weekdays.",
    "The ISBN is 978-0-306-40615-7.",
    "The old ISBN was 0-306-40615-2.",
    "The city has a population of 8,336,817.",
    "Pi is roughly 3.14159265358979.",
    "The coordinates are 51.5074, -0.1278.",
    "We won 3-2 in extra time.",
    "The screen is 1920x1080 at 144 Hz.",
    "Windows 10 build 19045.2364 broke the driver.",
    "Install version 1.2.3.4 of the agent.",
    "Revenue was 12 345 678 euros last year.",
    "My reference number is 4111 1111 1111 1112.",
    "The ticket is 1234 5678 9012 3456 in the tracker.",
    "Tracking number 1Z999AA10123456784.",
    "How to train your dragon: how-to-train-your-dragon-2019 is the slug.",
    "The file is backup_2023_final_v2_copy_old.tar.",
    "See https://example.com/blog/2023/04/my-first-post for details.",
    "The request id was 550e8400-e29b-41d4-a716-446655440000.",
    "The SSN field said 000-12-3456, which is not valid.",
    "Invoice INV-2023-00042 is overdue.",
    "The zip code is 90210 and the postcode SW1A 1AA.",
    "I walked 10,000 steps and burned 2,300 calories.",
    "Flight BA 2490 leaves from gate A12, seat 14C.",
    "I scored 1380 on the SAT in 2015.",
    "It costs €1.200,00 with tax.",
    "The temperature dropped to -3 and then +5 degrees.",
    "Uptime was 99.9% in Q3.",
    "The ratio is 16:9.",
    "My phone died at 14:30 yesterday.",
    "We're meeting on 05.04.2023 at 10:00.",
    "The deadline is 12/03/2024.",
    "I paid 1,200 for the flight and 350 for the hotel.",
    "version 2.14.0.1 fixed the leak",
    "Python 3.11.7 is what we run.",
    "Our lucky numbers were 7, 14, 21, 28 and 35.",
    "My grandmother was born on 20 May 1948.",
    "The pin on the map is wrong.",
    "Can you text me when you're close?",
    "Call mom about the 2023 taxes.",
    "My token expired, I need a new one.",
    "The api key is in the vault, not in the chat.",
    "The secret is to add salt early.",
    "I read 24 books this year, mostly sci-fi.",
    "The kids are 8 and 11.",
    "The match ended 2-1 after a 90th-minute goal.",
    "sha256 of the file matches, commit a1b2c3d too.",
    "Zoom meeting ID: 845 2913 0067, passcode on the invite.",
    "The USPS tracking number is 9400 1000 0000 0000 0000 00.",
    "ISBN 9780306406157 is the paperback.",
    "The log says 2024-05-06T14:30:00Z for the first error.",
    "New York is at 40.7128,-74.0060 roughly.",
    "The OID is 1.2.840.113549 for RSA.",
    "Body temperature was 36.6 this morning.",
]
#: Ordinary chat without numbers, to pad the negatives with the common case.
PLAIN = [
    "I think we should try the new ramen place downtown.",
    "The kids loved the museum, especially the dinosaurs.",
    "Remind me to water the plants before we leave.",
    "Honestly the second season was better than the first.",
    "My sister is visiting next weekend with her dog.",
    "Do you know a good recipe for lentil soup?",
    "I've been sleeping badly since the heatwave started.",
    "Our team finally shipped the new onboarding flow.",
    "Let's keep the budget conversation for Monday.",
    "She switched from running to swimming because of her knee.",
]


def generate(seed: int, per_kind: int, negatives: int) -> list[Sample]:
    """``per_kind`` sentences per kind holding one value of it, then ``negatives`` holding none."""
    r = random.Random(seed)
    samples = []
    for kind, (make, templates) in POSITIVES.items():
        cued = CUED.get(kind)
        for i in range(per_kind):
            maker, pool = cued if cued and i % 4 == 3 else (make, templates)
            samples.append(_place(r, kind, maker(r), r.choice(pool)))
    tricky = [
        *NEGATIVES,
        *(f"The card was declined: {_failing_card(r)}." for _ in range(10)),
        *(f"The IBAN {iban(r, valid=False)} was rejected by the bank." for _ in range(10)),
    ]
    for i in range(negatives):
        text = tricky[i] if i < len(tricky) else _plain(r)
        samples.append(Sample(_distract(r, text), ()))
    return samples


def _place(r: random.Random, kind: str, value: str, template: str) -> Sample:
    before, after = template.split("{}")
    if r.random() < 0.5:
        distractor = r.choice(DISTRACTORS)
        if r.random() < 0.5:
            before = f"{distractor.capitalize()}, {before[:1].lower()}{before[1:]}"
        else:
            after = f"{after.rstrip('.')} {distractor}."
    return Sample(before + value + after, ((kind, len(before), len(before) + len(value)),))


def _distract(r: random.Random, text: str) -> str:
    return f"{text.rstrip('.')} {r.choice(DISTRACTORS)}." if r.random() < 0.3 else text


def _plain(r: random.Random) -> str:
    sentence = r.choice(PLAIN)
    return f"{sentence[:-1]} {r.choice(DISTRACTORS)}." if r.random() < 0.5 else sentence


def _failing_card(r: random.Random) -> str:
    number = card(r)
    last = number[-1]
    return number[:-1] + str((int(last) + r.randint(1, 9)) % 10)


def score(samples: list[Sample]) -> tuple[dict[str, dict[str, int]], list[dict[str, str]]]:
    """Per kind: true positives (exact spans apart), false positives, false negatives; the errors."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"tp": 0, "exact": 0, "fp": 0, "fn": 0})
    errors = []
    for sample in samples:
        findings = find_personal_data(sample.text)
        matched: set[Finding] = set()
        for kind, start, end in sample.truth:
            hit = next((f for f in findings if f.kind == kind and f.start < end and start < f.end), None)
            if hit is None:
                counts[kind]["fn"] += 1
                errors.append(
                    {"error": "missed", "kind": kind, "text": sample.text, "value": sample.text[start:end]}
                )
                continue
            matched.add(hit)
            counts[kind]["tp"] += 1
            counts[kind]["exact"] += (hit.start, hit.end) == (start, end)
        for finding in findings:
            if finding not in matched:
                counts[finding.kind]["fp"] += 1
                errors.append(
                    {
                        "error": "false positive",
                        "kind": finding.kind,
                        "text": sample.text,
                        "value": finding.text,
                    }
                )
    return dict(counts), errors


def _rates(count: dict[str, int]) -> dict[str, float]:
    found = count["tp"] + count["fp"]
    present = count["tp"] + count["fn"]
    return {
        "precision": round(count["tp"] / found, 4) if found else 1.0,
        "recall": round(count["tp"] / present, 4) if present else 1.0,
    }


def chat_turns(path: Path) -> list[str]:
    """The text of every turn of a LoCoMo file's conversations."""
    turns: list[str] = []
    for sample in json.loads(path.read_text()):
        for key, session in sample["conversation"].items():
            if key.startswith("session_") and isinstance(session, list):
                turns.extend(turn["text"] for turn in session)
    return turns


def speed(sentences: list[str], repeats: int = 3) -> float:
    """Mean microseconds of ``find_personal_data`` per sentence over ``SPEED_SENTENCES`` of them.

    The best of ``repeats`` passes, as ``timeit`` reports: on a shared machine the slower passes
    measure the neighbours.
    """
    texts = [sentences[i % len(sentences)] for i in range(SPEED_SENTENCES)]
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for text in texts:
            find_personal_data(text)
        best = min(best, time.perf_counter() - started)
    return best / len(texts) * 1e6


def _table(per_kind: dict[str, dict[str, float | int]]) -> Table:
    table = Table(title="Personal data found in generated chat")
    for column in ("kind", "values", "found", "exact", "false pos.", "precision", "recall"):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for kind, row in per_kind.items():
        table.add_row(
            kind,
            str(row["tp"] + row["fn"]),
            str(row["tp"]),
            str(row["exact"]),
            str(row["fp"]),
            f"{row['precision']:.3f}",
            f"{row['recall']:.3f}",
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-kind", type=int, default=40)
    parser.add_argument("--negatives", type=int, default=360)
    parser.add_argument("--chat", type=Path, default=DEFAULT_CHAT, help="real chat to time (LoCoMo JSON)")
    args = parser.parse_args()
    console = Console()
    samples = generate(args.seed, args.per_kind, args.negatives)
    counts, errors = score(samples)
    per_kind: dict[str, dict[str, float | int]] = {}
    for kind in KINDS:
        count = counts.get(kind, {"tp": 0, "exact": 0, "fp": 0, "fn": 0})
        per_kind[kind] = {**count, **_rates(count)}
    overall = {key: sum(counts[k][key] for k in counts) for key in ("tp", "exact", "fp", "fn")}
    per_kind["overall"] = {**overall, **_rates(overall)}
    micros = speed([s.text for s in samples])
    console.print(_table(per_kind))
    console.print(f"{len(samples)} sentences ({sum(bool(s.truth) for s in samples)} with personal data)")
    console.print(f"find_personal_data: {micros:.1f} µs per generated sentence")
    chat: dict[str, object] = {}
    if args.chat.exists():
        turns = chat_turns(args.chat)
        found = [{"kind": f.kind, "value": f.text, "text": t} for t in turns for f in find_personal_data(t)]
        chat = {"turns": len(turns), "microseconds_per_turn": round(speed(turns), 2), "findings": found}
        console.print(
            f"find_personal_data: {chat['microseconds_per_turn']} µs per turn of real chat "
            f"({args.chat.name}, {len(turns):,} turns, {len(found)} findings)"
        )
    for error in errors:
        console.print(f"[dim]{error['error']} {error['kind']}: {error['value']!r} in {error['text']!r}[/dim]")
    args.out.mkdir(parents=True, exist_ok=True)
    report = {
        "seed": args.seed,
        "sentences": len(samples),
        "with_personal_data": sum(bool(s.truth) for s in samples),
        "per_kind": per_kind,
        "microseconds_per_sentence": round(micros, 2),
        "real_chat": chat,
        "errors": errors,
    }
    (args.out / "pii.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
