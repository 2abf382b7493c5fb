"""The one sanitiser for names shown to people: file and folder names, intent names, anything a
card, a watch folder or an inbox JobSpec brought in. `proxx.visibility` shows them through it, the
job log writes them through it.
"""

from __future__ import annotations

import unicodedata

# Bidirectional embeddings, overrides, isolates and marks: they reorder what a terminal shows.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Unicode categories never shown raw: controls (C0, DEL, C1), lone surrogates (how Python carries a
# name's bytes that are not UTF-8), line and paragraph separators (a forged line).
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def _escape_char(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8, as os.fsdecode carries it
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _needs_escape(char: str) -> bool:
    return char in _BIDI or unicodedata.category(char) in _ESCAPED_CATEGORIES or char == "\\"


def safe(text: str | bytes | None) -> str:
    """`text` on one line, safe for a terminal, a log and a page: every character that could move the
    cursor, write to the clipboard, reorder the line or start a new one is shown escaped, and so is
    a backslash that could be mistaken for one of those escapes (shown doubled). Bytes are decoded as
    UTF-8, each byte that is not shown as \\xNN."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogateescape")
    if text.isprintable() and "\\" not in text:  # the common case: nothing to do
        return text
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif _needs_escape(char):
            out.append(_escape_char(char))
        else:
            out.append(char)
    return "".join(out)


def safe_lines(text: str | None) -> list[str]:
    """A message that may hold several lines (a list of problems): each line made safe on its own."""
    return [safe(line) for line in (text or "").split("\n")]
