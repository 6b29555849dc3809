"""Bad input on the new routes is a 4xx with a stable code, never a 500 (found by fuzzing a live
server): a client_uri that does not parse at registration, a date at the end of the calendar in
the API keys' usage summary."""

from __future__ import annotations

import contextlib

import pytest

from chatsvg.application.authorization.registration import parse_registration
from chatsvg.application.keys.service import _date
from chatsvg.domain.authorization.grants import InvalidClientMetadata
from chatsvg.domain.errors import ValidationFailed
from chatsvg.entrypoints.http.key_schemas import parse_expiry


@pytest.mark.parametrize("client_uri", ["https://[zz", "http://[::1", "https://a:99999999/"])
def test_a_client_uri_that_does_not_parse_is_invalid_client_metadata(client_uri: str) -> None:
    with pytest.raises(InvalidClientMetadata):
        parse_registration({"redirect_uris": ["https://ok.example/cb"], "client_uri": client_uri})


@pytest.mark.parametrize("text", ["9999-12-31", "9999-12-31T23:59:59.999999+00:00"])
def test_an_end_date_at_the_end_of_the_calendar_is_accepted_or_refused_never_an_error(
    text: str,
) -> None:
    with contextlib.suppress(ValidationFailed):
        _date(text, "endDate", end_of_day=True)


def test_a_start_date_before_the_calendar_in_utc_is_a_validation_error() -> None:
    """0001-01-01T00:00+01:00 is a year-0 time in UTC: the store's conversion overflowed."""
    with pytest.raises(ValidationFailed):
        _date("0001-01-01T00:00:00+01:00", "startDate")
    assert _date("2026-01-01T01:00:00+01:00", "startDate") == _date("2026-01-01", "startDate")


def test_a_key_expiry_past_the_calendar_in_utc_is_a_validation_error() -> None:
    """9999-12-31T23:59:59-14:00 is in year 10000 in UTC: storing it answered 500."""
    with pytest.raises(ValidationFailed):
        parse_expiry("9999-12-31T23:59:59-14:00")
    assert parse_expiry("2030-01-01T02:00:00+02:00") == parse_expiry("2030-01-01")
