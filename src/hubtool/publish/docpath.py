"""Where a card's document lands in a published hub: `cards/<user-id>/<model-name>@<model-version>.json`, each
part one file-name segment, whatever the card says.

A schema may let a card's version be `../../../../x` (the default profile's is any string of up to 32
characters): written as it was, it put the document and its catalog page outside the generation, anywhere the
publishing user could write.  So a part keeps the characters every file system and URL takes as they are
(letters, digits, `.`, `_`, `+`, `-`), and any other is written `~HH` per UTF-8 byte (`~` itself too, so two
parts never land on one name); `.` and `..` are written out, and an empty part is `~`.  Ordinary names, which
are all a hub has, keep their paths.
"""

from __future__ import annotations

import re

_PLAIN = re.compile(r"[A-Za-z0-9._+-]+")
_KEPT = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+-")


def segment(text: str) -> str:
    """`text` as one file-name segment: no `/`, not `.` or `..`, the same only for the same text."""
    if text in (".", ".."):
        return text.replace(".", "~2E")
    if _PLAIN.fullmatch(text):
        return text
    if not text:
        return "~"
    return "".join(c if c in _KEPT else "".join(f"~{b:02X}" for b in c.encode("utf-8", "surrogatepass"))
                   for c in text)


def document_path(user: str, name: str, version: str) -> str:
    """The card document's path in a directory hub (its catalog page: the same, ending .html)."""
    return f"cards/{segment(user)}/{segment(name)}@{segment(version)}.json"
