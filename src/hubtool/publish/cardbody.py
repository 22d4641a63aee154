"""A card's markdown body as HTML that is safe to publish: raw HTML is text, links are http(s) only, no images.

markdown-it-py (CommonMark) with `html` off, so a card's `<script>` is shown, not run; every link
whose scheme is not http or https (`javascript:`, `data:`, `file:`...) stays text; images are
turned off as well, because the catalog makes no external requests (a card's image would be one).
"""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt

from ..cards.frontmatter import FrontMatter, split

_SAFE = ("http://", "https://")


@cache
def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")
    md.validateLink = lambda url: url.strip().lower().startswith(_SAFE)  # type: ignore[method-assign]
    return md


def body_html(text: str, path: str) -> str:
    """The card's body (after its front matter) rendered; "" when the card does not split."""
    parts = split(text, path)
    return _renderer().render(parts.body) if isinstance(parts, FrontMatter) else ""
