"""The rules a name a person gives obeys (a customer's name, a sandbox's label): what is
normalised, what is refused, and how its length is counted.

Unicode properties come from the ``regex`` module (grapheme clusters, script extensions,
default-ignorable code points, emoji), which follows a newer Unicode than ``unicodedata``
and has the Script property that ``unicodedata`` lacks.
"""

import unicodedata

import regex

from core.errors import InvalidInput

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_BLANK = frozenset("\u2800")
"""The blank Braille pattern: a symbol that draws nothing (and is not default-ignorable)."""
_TAGS = range(0xE0000, 0xE0080)
"""Unicode tag characters: invisible, and able to spell text a language model reads."""

_CLUSTERS = regex.compile(r"\X")
_INVISIBLE = regex.compile(r"[\p{Cf}\p{Default_Ignorable_Code_Point}]")
_PICTOGRAPHIC = regex.compile(r"\p{Extended_Pictographic}")
_EMOJI = regex.compile(r"\p{Emoji}")
_HAN = regex.compile(r"\p{scx=Han}")
_EMOJI_MODIFIERS = range(0x1F3FB, 0x1F400)
_ZWJ = "\u200d"
_EMOJI_SELECTORS = frozenset("\ufe0e\ufe0f")
_IDEOGRAPHIC_SELECTORS = range(0xE0100, 0xE01F0)

SCRIPT_FAMILIES: dict[str, tuple[str, ...]] = {
    **{
        script: (script,)
        for script in (
            "Latin", "Greek", "Cyrillic", "Armenian", "Georgian", "Hebrew", "Arabic", "Syriac",
            "Thaana", "Nko", "Devanagari", "Bengali", "Gurmukhi", "Gujarati", "Oriya", "Tamil",
            "Telugu", "Kannada", "Malayalam", "Sinhala", "Thai", "Lao", "Tibetan", "Myanmar",
            "Khmer", "Mongolian", "Ethiopic", "Cherokee", "Canadian_Aboriginal", "Tifinagh",
            "Vai",
        )
    },
    "Japanese": ("Han", "Hiragana", "Katakana"),
    "Chinese": ("Han", "Bopomofo"),
    "Korean": ("Hangul", "Han"),
}  # fmt: skip
"""The scripts one word may be written in, alone or, for the three CJK writing systems,
together. Common characters (digits, punctuation, emoji, spaces) and Inherited ones
(combining accents, joiners) go with any; a character belongs to every script of its
Script_Extensions (the katakana-hiragana long vowel mark is Japanese either way).
A word written only in scripts not listed here passes; one that mixes them with a listed
script does not."""

_ANY = r"\p{scx=Common}\p{scx=Inherited}"
_FAMILY_WORDS = [
    regex.compile("[" + "".join(rf"\p{{scx={s}}}" for s in scripts) + _ANY + "]+")
    for scripts in SCRIPT_FAMILIES.values()
]
_LISTED = sorted({script for scripts in SCRIPT_FAMILIES.values() for script in scripts})
_SCRIPT_OF = [(script, regex.compile(rf"\p{{sc={script}}}")) for script in _LISTED]
_UNLISTED = regex.compile(
    r"(?V1)[[\p{L}\p{M}]--[" + "".join(rf"\p{{scx={s}}}" for s in _LISTED) + _ANY + "]]"
)


def clean_name(raw: str, field: str, *, shortest: int, longest: int) -> str:
    """Trim, drop a leading byte-order mark and NFC-normalise a name, then check it, or raise
    ``InvalidInput`` whose detail names ``field`` and the rule broken.

    Length: at least ``shortest`` visible characters, counted as grapheme clusters (what a
    reader sees as one character: a letter with its accents, a whole emoji sequence) that
    show something; at most ``longest`` code points. With ``shortest`` 0 the name may be
    empty, but not made only of invisible characters.
    """
    if any("\ud800" <= ch <= "\udfff" for ch in raw):
        raise InvalidInput(f"{field}: must be valid Unicode text (it contains a lone surrogate)")
    text = unicodedata.normalize("NFC", raw.strip().removeprefix("\ufeff").strip())
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise InvalidInput(
            f"{field}: must not contain control characters such as line breaks or tabs"
        )
    if any(ch in BIDI_CONTROLS for ch in text):
        raise InvalidInput(
            f"{field}: must not contain bidirectional override or embedding characters"
        )
    if any(unicodedata.category(ch) in ("Zl", "Zp") for ch in text):
        raise InvalidInput(f"{field}: must not contain line or paragraph separators")
    if any(ord(ch) in _TAGS for ch in text):
        raise InvalidInput(f"{field}: must not contain Unicode tag characters (they hide text)")
    visible = visible_length(text)
    if shortest == 0 and text and not visible:
        raise InvalidInput(f"{field}: must be empty or show at least one visible character")
    if visible < shortest:
        raise InvalidInput(f"{field}: must be at least {shortest} characters after trimming")
    if len(text) > longest:
        raise InvalidInput(f"{field}: must be at most {longest} characters")
    hidden = first_invisible(text)
    if hidden is not None:
        raise InvalidInput(
            f"{field}: must not contain invisible or formatting characters such as zero-width "
            f"spaces, joiners or soft hyphens (found U+{ord(hidden):04X}); a zero-width joiner "
            "may only join two emoji"
        )
    for word in text.split():
        scripts = mixed_scripts(word)
        if scripts:
            shown = word if len(word) <= 30 else word[:30] + "..."
            raise InvalidInput(
                f"{field}: each word must be written in one script: '{shown}' mixes "
                f"{_and(scripts)} (letters that look alike across alphabets are refused)"
            )
    return text


def visible_length(text: str) -> int:
    """Grapheme clusters with at least one character that draws something."""
    return sum(1 for cluster in _CLUSTERS.findall(text) if any(map(_visible, cluster)))


def _visible(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LNPS" and ch not in _BLANK and not _INVISIBLE.match(ch)


def first_invisible(text: str) -> str | None:
    """The first format or default-ignorable character that does no visible job here.

    Allowed: a zero-width joiner between two emoji (a family, a profession), one emoji
    presentation selector after an emoji, one ideographic variation selector after a
    Han character. Everything else of the kind (zero-width spaces, joiners in words, soft
    hyphens, fillers, invisible operators, annotation marks) is refused.
    """
    for index, ch in enumerate(text):
        if not _INVISIBLE.match(ch):
            continue
        before = text[index - 1] if index else ""
        if ch == _ZWJ and _joins_emoji(text, index):
            continue
        if ch in _EMOJI_SELECTORS and before and _EMOJI.match(before):
            continue
        if ord(ch) in _IDEOGRAPHIC_SELECTORS and before and _HAN.match(before):
            continue
        return ch
    return None


def _joins_emoji(text: str, index: int) -> bool:
    before = index - 1
    while before >= 0 and (
        text[before] in _EMOJI_SELECTORS or ord(text[before]) in _EMOJI_MODIFIERS
    ):
        before -= 1
    after = text[index + 1 : index + 2]
    return (
        before >= 0
        and bool(_PICTOGRAPHIC.match(text[before]))
        and bool(after)
        and bool(_PICTOGRAPHIC.match(after))
    )


def mixed_scripts(word: str) -> list[str]:
    """The scripts a word mixes, or nothing when it is written in one (see SCRIPT_FAMILIES)."""
    if word.isascii() or any(family.fullmatch(word) for family in _FAMILY_WORDS):
        return []
    present = [script for script, pattern in _SCRIPT_OF if pattern.search(word)]
    if _UNLISTED.search(word):
        present.append("another script")
    return present if len(present) > 1 else []


def _and(items: list[str]) -> str:
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)
