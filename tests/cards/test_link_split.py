"""rules.scheme_and_host: its reading of links agrees with urllib's on any text, but for the http(s) links with
no host a client could connect to (none, a space in it, a bidi control, an empty label, a port past 65535),
which it says are not URLs."""

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
    found, urllib = scheme_and_host(url), _urllib(url)
    if isinstance(found, tuple) or isinstance(urllib, str) or urllib[0] not in ("http", "https"):
        assert found == urllib
        return
    host = urllib[1]  # refused: then no client could connect to that host either
    assert not _connectable(host) or not _port_ok(url), (url, found)


def _connectable(host: str) -> bool:
    """An independent reading of a host: what the idna codec and the DNS label rules accept."""
    if host.startswith("[") or ":" in host:
        return True  # IPv6 literals: urllib checked the brackets; the pieces above produce no bad literal inside
    try:
        name = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = name.rstrip(".").split(".") if name.endswith(".") else name.split(".")
    return bool(host) and len(name) <= 253 and all(
        0 < len(label) <= 63 and not label.startswith("-") and not label.endswith("-")
        and all(c.isalnum() and c.isascii() or c in "-_" for c in label) for label in labels)


def _port_ok(url: str) -> bool:
    try:
        urlsplit(url).port  # noqa: B018
    except ValueError:
        return False
    return True


def test_real_links() -> None:
    for url in ("https://download.mindspore.cn/model_zoo/r1.0/resnet50.ckpt", "https://Gitee.com/a/b?x=1#y",
                "https://gitee.com", "https://h:8443/x", "https://u@h/x", "https://[::1]/x", "https://[::1/x",
                "https://bücher.de/x", "https://ex_ample.com/x", "https://x.com./a", "http://127.0.0.1:8080/a"):
        assert scheme_and_host(url) == _urllib(url)


def test_links_no_client_can_connect_to_say_why() -> None:
    for url, why in [("https:///x", "no host"), ("https://:443/x", "no host"), ("https://a b/c", "'a b'"),
                     ("https://\u202eevil.com/x", "internationalised"), ("https://a..b/x", "'a..b'"),
                     ("https://-a.com/x", "'-a.com'"), ("https://" + "a" * 64 + ".com/x", "not a valid host name"),
                     ("https://h.com:99999/x", "Port out of range"), ("https://[::zz]/x", "IPv6"),
                     ("http://%41.com/x", "'%41.com'")]:
        found = scheme_and_host(url)
        assert isinstance(found, str) and why in found, (url, found)
