"""How the bank writes counts in English text: "1 holding", "2 holdings", "1,250 closes"."""


def count_of(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` and the noun agreeing with it; ``plural`` where adding an s is wrong."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"
