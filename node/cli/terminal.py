"""Text anyone could have written, made safe to print on the operator's terminal.

Beacon venue names come from whoever holds the public channel key; titles, names and licences
from whoever signed a bundle; a node's status from whatever answers at ``--http``. Printed raw,
an ESC sequence among them can set the window title, write the clipboard (OSC 52) or hide text,
and bidi controls can reorder what the operator reads. :func:`printable` shows every such
character as a ``\\uXXXX`` escape (also valid inside a JSON string), and every command prints
untrusted text through it.
"""

from __future__ import annotations

import unicodedata

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f"  # Arabic letter mark, left-to-right and right-to-left marks
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings and overrides (LRE RLE PDF LRO RLO)
    "\u2066\u2067\u2068\u2069"  # isolates (LRI RLI FSI PDI)
)
# C0 and C1 controls and DEL (Cc), line and paragraph separators, surrogates left by a lax decode.
ESCAPED_CATEGORIES = frozenset({"Cc", "Zl", "Zp", "Cs"})


def _escape(char: str) -> str:
    if char in BIDI_CONTROLS or unicodedata.category(char) in ESCAPED_CATEGORIES:
        return f"\\u{ord(char):04x}"
    return char


def printable(text: object) -> str:
    """``str(text)`` with control, bidi and line-separator characters (newlines too) escaped."""
    value = str(text)
    if value.isprintable() and value.isascii():
        return value
    return "".join(_escape(char) for char in value)


def printable_lines(text: str) -> str:
    """Like :func:`printable`, but keeps the ``\\n`` between lines (for multi-line output we built)."""
    return "\n".join(printable(line) for line in text.split("\n"))
