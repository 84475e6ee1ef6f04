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
