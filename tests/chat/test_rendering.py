from chat.rendering import LINK_REL, render_message_html


def test_escapes_all_markup():
    html = render_message_html('<script>alert(1)</script><img src=x onerror=alert(1)> & "q"')
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&amp;" in html


def test_linkifies_http_and_https_with_safe_rel():
    html = render_message_html("see https://example.org/a?b=1&c=2 and http://x.org")
    assert f'<a href="https://example.org/a?b=1&amp;c=2" rel="{LINK_REL}" target="_blank">' in html
    assert 'href="http://x.org"' in html


def test_other_schemes_and_bare_domains_stay_text():
    html = render_message_html("javascript:alert(1) data:text/html,hi example.com www.x.org")
    assert "<a" not in html


def test_attribute_injection_through_a_link_is_escaped():
    html = render_message_html('http://x.org/"><img src=x onerror=alert(1)>')
    assert "<img" not in html
    assert html.count("<a ") == 1


def test_newlines_become_line_breaks():
    assert render_message_html("one\ntwo") == "one<br>two"


def _slow_render(body: str) -> str:
    """The full clean-and-link path, which the plain-text shortcut must agree with."""
    import bleach

    from chat import rendering

    escaped = bleach.clean(body, tags=set(), attributes={},
                                     protocols=rendering._SAFE_PROTOCOLS, strip=False)
    return str(rendering._linker.linkify(escaped)).replace("\n", "<br>")


# Letters, spaces, punctuation, accents, emoji, and every character the shortcut must leave
# to bleach: markup, control characters, noncharacters, lone surrogates, link markers.
_ALPHABET = [*"abc XYZ.,;:!?'\"()-/\\#*_=+[]{}|~`^%$@\t\n\r", "&", "<", ">", "://",
             "é", "ü", "ß", "ж", "中", "😀", "\u00a0", "\u2028", "\u200b", "\x00", "\x07",
             "\x0c", "\x1b", "\x7f", "\x85", "\x9f", "\ufdd0", "\ufffe", "\uffff",
             "\U0001fffe", "\ud800", "www.", "example.com", "http", "https", "&amp;",
             "&lt;", "&#"]


def test_the_plain_text_shortcut_agrees_with_the_full_path_on_generated_text():
    import random

    from chat import rendering

    rng = random.Random(20261121)
    took_shortcut = 0
    for _ in range(3000):
        body = "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 40)))
        if "://" not in body and rendering._PLAIN_TEXT.fullmatch(body):
            took_shortcut += 1
        assert render_message_html(body) == _slow_render(body), repr(body)
    assert took_shortcut > 100  # both paths were really compared


def test_plain_chat_takes_the_shortcut_and_keeps_line_breaks():
    from chat import rendering

    body = "Tonight was hard, but I'm still here.\nThank you all — really. 😊"
    assert rendering._PLAIN_TEXT.fullmatch(body)
    assert render_message_html(body) == body.replace("\n", "<br>")
