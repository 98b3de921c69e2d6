"""Text that tries to steer what memory answers later, in any wording or language.

A fixed list of attack phrases ("ignore previous instructions") misses the next wording. What
such a message does is constant, though: it speaks to whatever reads memory later (the model, the
assistant, "whoever reads these logs"), or poses as an authority or a control channel (an
administrator, a developer message, a ``<memory_override>`` tag, a ``priority: critical``
header), and it tells that reader what to do with memory: answer a value whenever asked, treat it
as authoritative, override or forget older records. Ordinary conversation does one of these at a
time: it mentions an AI ("I asked the assistant at the bank"), gives a standing preference
("always answer in Spanish"), or pastes markup ("<div>"); a message that does both, in one
sentence or one block, is flagged.

So a mark needs two things near each other (within ``REACH`` characters):

- a **reader or authority**: a word for the AI or its operators, in the languages below, an
  authority claim, or control markup (a tag, bracket directive, front matter or code fence that
  names the system, memory, an override or a priority);
- a **steer**: an order about future answers ("answer ... when asked", "whenever ... comes up",
  "must state", "respond with"), or an order about memory itself ("override", "authoritative",
  "older entries are stale", "forget the old name").

The word lists cover English, German, Spanish, French, Italian, Portuguese, Dutch, Polish,
Turkish, Japanese, Chinese and Korean.
"""

from __future__ import annotations

import re

from .wording import quote, words_of

__all__ = ["steering_marks"]

#: How far apart (in characters) a reader and a steer may stand to count as one instruction.
REACH = 160
#: How much of each half a reason quotes.
QUOTED = 40

_READER = re.compile(
    # English: the model and whoever reads memory later; words that also name people or things
    # ("my assistant", "a car model") count only with a word that points at an AI.
    r"(?-i:(?<![A-Za-z])(?:AI|A\.I\.|KI|IA|LLMs?|GPT|ChatGPT)(?![A-Za-z]))"
    r"|\b(?:the|an|any|all|every|dear|hey|hi|to|for)\s+(?:ai|a\.i\.|llm)s?\b"
    r"|\b(?:ai|language|large\s+language|the|any|every|future)\s+models?\b"
    r"|(?<!\bmy )(?<!\bour )(?<!\bhis )(?<!\bher )(?<!\btheir )(?<!\bshop )(?<!\bpersonal )"
    r"(?<!\bteaching )(?<!\bresearch )(?<!\bdental )(?<!\bsales )(?<!\bexecutive )\bassistants?\b"
    r"|\b(?:chat\s?bots?|ai\s+agents?|memory\s+system|retrieval\s+system|summari[sz]ers?)\b"
    r"|\b(?:whoever|anyone|anybody|any\s+\w+)\s+(?:\w+\s+){0,2}(?:reads?|reading|loads?|loading)\b"
    r"|\bfuture\s+(?:sessions?|conversations?|retrieval|readers?)\b"
    # German, Spanish, French, Italian, Portuguese, Dutch, Polish, Turkish.
    r"|\b(?:künstliche\s+intelligenz|sprachmodell|ki-(?:system|assistent)\w*|inteligencia\s+artificial|"
    r"asistente\s+virtual|intelligence\s+artificielle|intelligenza\s+artificiale|"
    r"inteligência\s+artificial|sztuczn\w+\s+inteligencj\w+|yapay\s+zek[aâ])\b"
    r"|\b(?:an\s+das|an\s+den|für\s+das|für\s+den)\s+(?:ki|assistent\w*|system|modell)\b"
    r"|\b(?:para\s+(?:el|la|o|a)|al|pour\s+(?:l'|le|la)|à\s+l'|au|per\s+(?:l'|il)|all'|ao|"
    r"voor\s+(?:de|het)|aan\s+(?:de|het)|dla)\s*"
    r"(?:ia|asistente|assistant|assistente|modelo|modèle|modello|ai|assistent|sistema|système|systeem)\b"
    r"|\basyst\w*|\bassistent(?:e|in)?\b"
    # Japanese, Chinese, Korean.
    r"|アシスタント|モデル|システム|人工智能|助手|模型|系统|系統|어시스턴트|모델|시스템|인공지능",
    re.IGNORECASE,
)
_AUTHORITY = re.compile(
    r"\bthis\s+is\s+(?:the|your)\s+(?:\w+\s+){0,2}(?:administrator|admin|developer|operator|owner|"
    r"support|security|compliance)\b"
    r"|\b(?:administrator|admin|developer|operator|platform|vendor|compliance|security|maintenance|"
    r"moderation|system)[\s-]+(?:message|notice|note|team|override|directive|update|instruction|run|patch|"
    r"window|melding|nachricht|aviso|avis)s?\b"
    r"|\b(?:approved|authori[sz]ed|mandated|verified)\s+by\s+(?:the\s+)?(?:\w+\s+){0,2}"
    r"(?:team|admin\w*|developers?|operators?|platform|system)\b",
    re.IGNORECASE,
)
#: Markup posing as a control channel: it names the system, memory, an override or a priority
#: (as a word, or inside a name: ``memory_override``).
_CONTROL_WORDS_SET = frozenset(
    """system memory memories override overrides directive directives instruction instructions
    admin developer operator priority profile patch patches policy config context update updates
    record records""".split()
)
_CONTROL_WORDS = f"(?:{'|'.join(sorted(_CONTROL_WORDS_SET, key=len, reverse=True))})"
_MARKUP = re.compile(
    rf"<\s*/?\s*[\w:.-]*{_CONTROL_WORDS}[\w:.-]*(?:\s[^<>]*)?>"
    rf"|\[\[?[^\[\]\n]{{0,40}}{_CONTROL_WORDS}[^\[\]\n]{{0,80}}\]\]?"
    rf"|```\s*[\w-]*{_CONTROL_WORDS}[\w-]*"
    rf"|(?:^|\n)\s*(?:role|priority|scope|op|instruction|directive|memory|override)\s*[:=]\s*\S"
    r"|\b(?:priority|scope)\s*[=:]\s*(?:critical|override|high|urgent|all|0)\b",
    re.IGNORECASE,
)
#: Markup whose very name is an order to memory: ``<memory_override>``, ``[[MEMORY_DIRECTIVE]]``,
#: ``<system_update>``, a code fence labelled ``memory-patch``.
_ORDER_MARKUP = re.compile(
    r"(?:<\s*/?|\[\[?|```)\s*[\w.-]*(?:memory|memories|system|profile|admin|user)[\w.-]*"
    r"(?:directive|override|update|patch|instruction|command|rule|correction)",
    re.IGNORECASE,
)
_STEER = re.compile(
    # Orders about future answers.
    r"\b(?:always|only|must|shall|required\s+to|make\s+sure\s+(?:to|you)|be\s+sure\s+to)\s+"
    r"(?:\w+\s+){0,3}(?:answer|respond|reply|say|state|name|mention|use|report|return|treat|"
    r"prefer|apply|comply|output|refer\s+to|list|give)\b"
    r"|\b(?:answer|respond|reply|say)\s+(?:with\s+)?['\"“‘«]"
    r"|\bwhen(?:ever)?\s+(?:(?:you(?:'re|\s+are)?|anyone|someone|somebody|people|the\s+user)\s+)?"
    r"(?:is\s+|are\s+|gets?\s+)?ask(?:ed|s)?\b"
    r"|\bif\s+(?:(?:anyone|someone|somebody|you(?:'re|\s+are)?)\s+(?:is\s+)?)?ask(?:ed|s)?\b"
    r"|\bwhen(?:ever)?\s+(?:\w+\s+){1,6}comes?\s+up\b"
    r"|\b(?:never|do\s+not|don't)\s+(?:breaks?\s+character|mention\s+(?:any|the|other|earlier|older|previous))\b"
    r"|\b(?:prefer|use)\s+(?:this|these|that)\s+(?:value|values|one|name|answer)\b"
    r"|\bapply\s+(?:the|this|these)\s+(?:\w+\s+)?(?:patch|update|change|correction)s?\b"
    r"|\bbefore\s+answering\b|\b(?:conversation|chat|message)\s+history\b"
    # Orders about memory itself.
    r"|\b(?:override|overrides|overriding|supersede|supersedes|authoritative|canonical|"
    r"source\s+of\s+truth|takes?\s+precedence|precedence\s+over|treat\s+(?:this|it|these|that)\s+as)\b"
    r"|\b(?:older|earlier|previous|prior|old|existing|other|conflicting|stale)\s+"
    r"(?:entries|records?|notes?|memories|data|values?|turns|logs?|messages|information|info|mentions|"
    r"history|conversations?|names?|city|answers?)\b"
    r"|\b(?:ignore|disregard|forget|discard|drop|delete)\s+(?:\w+\s+){0,3}(?:old|older|earlier|previous|"
    r"prior|existing|other|stale|conversation|history|records?|entries|notes?|memor(?:y|ies))\b"
    r"|\b(?:stale|outdated|obsolete|deprecated|superseded|no\s+longer\s+valid)\b"
    r"|\b(?:from\s+now\s+on|from\s+this\s+moment|going\s+forward|in\s+(?:all|every|any)?\s*future\s+"
    r"(?:sessions?|conversations?|answers?|chats?))\b"
    r"|\b(?:outranks?|overrules?|takes?\s+priority|has\s+priority|priority\s+over|must\s+not\s+be\s+returned)\b"
    # German.
    r"|\b(?:immer|stets|ab\s+sofort|künftig|zukünftig|ignorier\w*|vergiss|vergessen|überschreib\w*|"
    r"veraltet\w*|antworte\w*|nenne\w*|verwende\w*|nicht\s+mehr\s+gültig)\b"
    # Spanish, Portuguese, Italian.
    r"|\b(?:siempre|responde\w*|contesta\w*|ignor[ae]\w*|olvid[ae]\w*|a\s+partir\s+de\s+ahora|"
    r"de\s+ahora\s+en\s+adelante|no\s+menciones|desactualizad\w*|obsolet\w*|sempre|responda\w*|"
    r"esqueça\w*|a\s+partir\s+de\s+agora|desatualizad\w*|rispondi\w*|dimentica\w*|"
    r"d'ora\s+in\s+poi|da\s+ora\s+in\s+poi)\b"
    # French, Dutch, Polish, Turkish.
    r"|\b(?:toujours|réponds|répondre|répondez|ignore[rz]?|oublie[rz]?|désormais|dorénavant|"
    r"à\s+partir\s+de\s+maintenant|obsolète|altijd|antwoord\w*|negeer\w*|vergeet|vanaf\s+nu|"
    r"verouderd\w*|voortaan|verplicht|ongeldig|eerdere|zawsze|podaj\w*|wcześniejsze|odpowiadaj\w*|odpowiedz\w*|ignoruj\w*|zapomnij\w*|od\s+teraz|"
    r"nieaktualn\w*|her\s+zaman|daima|cevap\s+ver\w*|yanıt\s+ver\w*|görmezden\s+gel\w*|unut\w*|"
    r"bundan\s+sonra)\b"
    # Japanese, Chinese, Korean.
    r"|必ず|常に|無視|答えて|回答して|今後|以前の|古い記録|总是|始终|务必|必须|忽略|回答|今后|以后|"
    r"以前的|旧的|항상|반드시|무시|대답|답변|앞으로|이전",
    re.IGNORECASE,
)


#: Words without which a text holds no reader, authority or control markup: the patterns, long
#: alternations, cost a few hundred microseconds a text, a look at its words a few. A reader is
#: named by one word, or by two together ("anyone" ... "reading", "future" ... "sessions").
_READER_WORDS = frozenset(
    """ai llm llms model models chatbot chatbots gpt chatgpt ki ia künstliche sprachmodell
    inteligencia intelligence intelligenza inteligência yapay modelo modèle modello sistema système
    systeem summarizer summarizers summariser summarisers""".split()
)
_READER_PAIRS = (
    (
        frozenset("whoever anyone anybody any".split()),
        frozenset("read reads reading load loads loading".split()),
    ),
    (
        frozenset({"future"}),
        frozenset("session sessions conversation conversations retrieval reader readers".split()),
    ),
    (frozenset({"memory", "retrieval"}), frozenset({"system"})),
    (frozenset({"chat"}), frozenset({"bot", "bots"})),
    (frozenset("an für das den".split()), frozenset({"system", "modell"})),
)
#: What words for an assistant begin with, in the languages above ("Assistenten", "asystencie").
_ASSISTANT_STEMS = ("assist", "asist", "asyst")
_AUTHORITY_WORDS = frozenset(
    """administrator admin developer operator security compliance platform vendor maintenance
    moderation system approved authorised authorized mandated verified""".split()
)
#: "This is the account owner", "this is your support team".
_AUTHORITY_PAIRS = ((frozenset({"this"}), frozenset({"owner", "support"})),)
_MARKUP_WORDS = frozenset(
    "role priority scope op instruction instructions directive directives memory override overrides".split()
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def steering_marks(text: str) -> list[str]:
    """Reasons ``text`` reads as an instruction to whatever reads memory later; empty when it
    does not. ``text`` is normalised (NFKC) by the caller."""
    lowered = text.lower()
    words = words_of(text)
    # A bracket opens markup only with a control word: "[shares a photo of ...]" is a caption.
    brackets = "<" in text or "`" in text or ("[" in text and bool(words & _CONTROL_WORDS_SET))
    if brackets and (order := _ORDER_MARKUP.search(text)):
        return [f"an order in control markup: {quote(order[0], QUOTED)}"]
    candidates = [
        (label, pattern)
        for label, pattern, present in (
            (
                "an instruction to the model",
                _READER,
                _named(words, _READER_WORDS, _READER_PAIRS)
                or any(w.startswith(_ASSISTANT_STEMS) for w in words)
                or any(w in lowered for w in ("a.i.", "sztuczn"))
                or _CJK.search(text),
            ),
            (
                "an order posing as an authority",
                _AUTHORITY,
                _named(words, _AUTHORITY_WORDS, _AUTHORITY_PAIRS),
            ),
            ("an order in control markup", _MARKUP, brackets or words & _MARKUP_WORDS),
        )
        if present
    ]
    if not candidates:
        return []
    steers = list(_STEER.finditer(text))
    for label, pattern in candidates if steers else ():
        for found in pattern.finditer(text):
            near = [s for s in steers if _apart(found, s) <= REACH]
            if near:
                return [f"{label}: {quote(found[0], QUOTED)} ... {quote(near[0][0], QUOTED)}"]
    return []


def _named(
    words: set[str], alone: frozenset[str], pairs: tuple[tuple[frozenset[str], frozenset[str]], ...]
) -> bool:
    """Whether ``words`` hold one of ``alone``, or a word of each side of one of ``pairs``."""
    return bool(words & alone) or any(words & one and words & other for one, other in pairs)


def _apart(a: re.Match[str], b: re.Match[str]) -> int:
    """Characters between two matches; 0 when they overlap."""
    return max(0, max(a.start(), b.start()) - min(a.end(), b.end()))
