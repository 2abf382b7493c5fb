"""Intent names an operator could take for one another: "HD Editorial LT", and the same name written
with a Cyrillic "o" (U+043E), are two intents that look like one, so picking one by its name may
pick the other.

Two rules, both linear in the number of intents:

* a *skeleton* of each name (compatibility-normalised, case-folded, invisible format characters and
  combining marks dropped, letters of other scripts that look like Latin ones, and 0/1/|, mapped to
  the Latin letter): two names with one skeleton are confusable;
* a name that mixes scripts inside one word (Latin letters and that Cyrillic "o") is confusable on its own, whatever the
  letter: the table above cannot hold every look-alike of every script, a mixed word needs none.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable

# Letters of Cyrillic, Greek and other scripts (and 0, 1, |) drawn like a Latin letter, case-folded:
# each Latin letter and what looks like it (escaped: the characters themselves would be the problem).
_DRAWN_LIKE = {
    "a": "\u0430\u0251\u03b1",
    "b": "\u044c\u0432\u03b2",
    "c": "\u0441\u03f2",
    "d": "\u0501",
    "e": "\u0435\u0451\u03b5\u0454",
    "g": "\u0261",
    "h": "\u04bb\u043d",
    "i": "\u0456\u0457\u03b9\u0269",
    "j": "\u0458",
    "k": "\u043a\u03ba",
    "l": "\u04cf1|\u01c0",
    "m": "\u043c",
    "n": "\u03b7\u043f",
    "o": "\u043e\u03bf0\u03c3",
    "p": "\u0440\u03c1",
    "q": "\u051b",
    "r": "\u0433",
    "s": "\u0455",
    "t": "\u0442\u03c4",
    "u": "\u03c5\u03bc",
    "v": "\u03bd\u0475",
    "w": "\u051d\u03c9",
    "x": "\u0445\u03c7",
    "y": "\u0443\u03b3",
    "z": "\u03b6",
}
_LOOK_ALIKES = str.maketrans({look_alike: latin for latin, looks in _DRAWN_LIKE.items() for look_alike in looks})
_WORD = re.compile(r"\w+")


def skeleton(name: str) -> str:
    """What `name` looks like, for comparing: names with one skeleton are taken for one another."""
    kept = name
    if not name.isascii():  # ASCII is its own NFKD form, with no combining mark or format character
        decomposed = unicodedata.normalize("NFKD", name)
        kept = "".join(c for c in decomposed if unicodedata.category(c) not in ("Mn", "Me", "Cf"))
    return " ".join(kept.casefold().translate(_LOOK_ALIKES).split())


def _script(character: str) -> str | None:
    """The script of a letter as its Unicode name starts ("LATIN", "CYRILLIC", ...); None for the rest."""
    if not unicodedata.category(character).startswith("L"):
        return None
    return str(unicodedata.name(character, "UNKNOWN")).split(" ", 1)[0]


def mixed_script_word(name: str) -> str | None:
    """The first word of `name` whose letters come from more than one script, or None."""
    if name.isascii():
        return None  # every ASCII letter is Latin
    words: list[str] = _WORD.findall(name)
    for word in words:
        if len({s for s in map(_script, word) if s is not None}) > 1:
            return word
    return None


def confusable_groups(names: Iterable[str]) -> list[list[str]]:
    """Groups (two names or more, sorted) of distinct names sharing a skeleton."""
    by_skeleton: dict[str, set[str]] = defaultdict(set)
    for name in names:
        by_skeleton[skeleton(name)].add(name)
    return sorted(sorted(group) for group in by_skeleton.values() if len(group) > 1)
