"""What the consent page shows is what the user must judge, so it cannot be spoofed with look-alike
letters: a redirect host in another script is shown in its ASCII (punycode) form, the form the
browser will actually go to, and a client name cannot carry bidirectional or invisible format
characters that reorder or hide what is shown."""

from __future__ import annotations

import pytest

from chatsvg.application.authorization.registration import parse_registration, redirect_host
from chatsvg.domain.authorization.grants import InvalidRedirectUri


def test_a_non_ascii_redirect_host_is_shown_as_punycode() -> None:
    assert redirect_host("https://\u0430pple.example:8443/cb") == "xn--pple-43d.example:8443"
    assert redirect_host("http://127.0.0.1:33418/callback") == "127.0.0.1:33418"
    assert redirect_host("http://[::1]:9000/cb") == "[::1]:9000"


def test_a_redirect_host_that_has_no_ascii_form_is_refused() -> None:
    with pytest.raises(InvalidRedirectUri):
        parse_registration({"redirect_uris": ["https://" + "\u0430" * 70 + ".example/cb"]})


def test_format_characters_are_removed_from_the_client_name() -> None:
    registered = parse_registration(
        {"redirect_uris": ["https://ok.example/cb"], "client_name": "Good\u202eApp\u200b Tool"}
    )
    assert registered.name == "GoodApp Tool"
