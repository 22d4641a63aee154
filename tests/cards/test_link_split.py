"""rules.scheme_and_host: its reading of plain https links agrees with urllib's on any text."""

from __future__ import annotations

from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from hubtool.cards.rules import scheme_and_host


def _urllib(url: str) -> tuple[str, str] | str:
    try:
        parts = urlsplit(url)
        return parts.scheme, (parts.hostname or "").lower()
    except ValueError as exc:
        return str(exc)


_piece = st.sampled_from(["https://", "HTTPS://", "http://", "a", "Z", "0", ".", "-", "/", "?", "#", ":", "@", "[",
                          "]", "%41", " ", "\t", "\n", "\x00", "ä", "xn--", "::1", "443", "user:pw@", "ﬀ", "\u3002"])


@settings(max_examples=3000, deadline=None)
@given(st.lists(_piece, max_size=10).map("".join), st.booleans())
def test_scheme_and_host_is_what_urllib_says(text: str, https: bool) -> None:
    url = ("https://" + text) if https else text
    assert scheme_and_host(url) == _urllib(url)


def test_real_links() -> None:
    for url in ("https://download.mindspore.cn/model_zoo/r1.0/resnet50.ckpt", "https://Gitee.com/a/b?x=1#y",
                "https://gitee.com", "https://h:8443/x", "https://u@h/x", "https://[::1]/x", "https://[::1/x"):
        assert scheme_and_host(url) == _urllib(url)
