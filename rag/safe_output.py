"""Text from articles made inert for a terminal: control characters are shown, not obeyed.

Article titles and bodies come from anywhere; an ESC sequence in one could recolour, move the
cursor, rewrite earlier lines or set the window title when `rag` prints it. Newlines and tabs
pass; every other C0/C1 control character (ESC included) is printed as a visible escape, so the
sequence is neither executed nor silently hidden. Offsets are never taken from printed text:
`rag show --json` and `--json` answers carry the exact canonical text.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: object) -> str:
    """`text` as a string with control characters (except newline and tab) written as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def redact(text: object, secret: str | None) -> str:
    """`text` with `secret` (the API key) replaced: servers echo a rejected key in their errors."""
    text = str(text)
    return text.replace(secret, "[API key]") if secret and len(secret) >= 4 else text
