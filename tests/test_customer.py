"""Each validation rule, with the error text a user reads."""

from __future__ import annotations

import json
from typing import Any

import pytest

from newo_nb import Customer, CustomerValidationError, derived_external_id

GOOD: dict[str, Any] = {"name": "Ana Ruiz", "email": "ana@example.com",
                        "source": "https://ana.example.com"}


def error_for(**changes: Any) -> str:
    with pytest.raises(CustomerValidationError) as info:
        Customer(**{**GOOD, **changes})
    assert len(info.value.errors) == 1, info.value
    return str(info.value.errors[0])


def test_valid_customer_is_normalised() -> None:
    c = Customer(**GOOD, phone_number="(415) 555-0132", country_code="us",
                 referral="Partner@Example.com", query_params={"utm": "nb"})
    assert c.phone_number == "+14155550132"
    assert c.country_code == "US"
    assert c.referral == "Partner@example.com"  # domain part lower-cased by email-validator
    assert c.external_customer_id.startswith("nb-")
    assert c.external_id == c.external_customer_id


def test_arguments_are_strings_and_absent_ones_left_out() -> None:
    c = Customer(**GOOD, external_customer_id="cust-1", query_params={"a": 1})
    args = dict(c.to_arguments())
    assert args == {"name": "Ana Ruiz", "email": "ana@example.com",
                    "source": "https://ana.example.com", "external_customer_id": "cust-1",
                    "query_params": '{"a": 1}'}
    assert all(isinstance(v, str) for v in args.values())
    assert json.loads(args["query_params"]) == {"a": 1}


def test_scheme_less_website_gets_https() -> None:
    assert Customer(**{**GOOD, "source": "ana.example.com"}).source == "https://ana.example.com"


def test_international_phone_needs_no_country() -> None:
    assert Customer(**GOOD, phone_number="+44 20 7946 0958").phone_number == "+442079460958"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "  "}, "name: '  ' is required: give the customer's name"),
        ({"name": None}, "name: <missing> is required: give the customer's name"),
        ({"name": "x" * 201}, "is 201 characters long; shorten it to 200 or fewer"),
        ({"email": "ana.example.com"}, "email: 'ana.example.com' is not a valid email address"),
        ({"email": 42}, "email: 42 is a int; give an email address"),
        ({"source": "ftp://files.example.com"},
         "source: 'ftp://files.example.com' uses ftp://; the website must be an http:// or "
         "https:// URL"),
        ({"source": "https://nodot"}, "has no valid host name; give the website as"),
        ({"country_code": "USA"},
         "country_code: 'USA' is not an ISO 3166-1 alpha-2 country code; did you mean 'US'"),
        ({"country_code": "Germany"}, "did you mean 'DE' (Germany)?"),
        ({"country_code": "ZZ"}, "use two letters such as 'US', 'GB' or 'DE'"),
        ({"phone_number": "555 0132"},
         "phone_number: '555 0132' has no country: write it as +<country code> <number> "
         "or set country_code"),
        ({"phone_number": "+1 555", "country_code": "US"}, "is not a valid phone number"),
        ({"phone_number": "12", "country_code": "US"}, "is not a valid phone number in US"),
        ({"phone_number": "call me", "country_code": "US"}, "is not a phone number"),
        ({"referral": "nobody"}, "referral: 'nobody' is not a valid email address"),
        ({"external_customer_id": "x" * 201}, "is longer than 200 characters"),
        ({"query_params": "[1"}, "query_params: '[1' is not JSON"),
        ({"query_params": [1, 2]}, "query_params: [1, 2] is a list; give a dict"),
        ({"query_params": {"when": object()}}, "cannot be sent as JSON"),
        ({"source_type": "yelp"},
         "source_type: 'yelp' is not a source type; use one of website, google_map"),
        ({"source_type": "google_map"}, "source_type: 'google_map' needs a Google Maps link"),
        ({"source_type": "google_map", "source": "https://google.evil.com/maps/x"},
         "needs a Google Maps link"),
        ({"source_type": "google_map", "source": "https://evilgoogle.com/maps/x"},
         "needs a Google Maps link"),
    ],
)
def test_each_bad_field_names_field_value_and_fix(changes: dict[str, Any], message: str) -> None:
    assert message in error_for(**changes)


def test_all_bad_fields_are_reported_together() -> None:
    with pytest.raises(CustomerValidationError) as info:
        Customer(name="", email="bad", source="", country_code="XX")
    assert info.value.fields == ("name", "email", "source", "country_code")
    assert str(info.value).startswith("4 customer fields invalid:")
    assert isinstance(info.value, ValueError)


def test_from_mapping_treats_blank_and_nan_as_absent_and_names_row() -> None:
    c = Customer.from_mapping({**GOOD, "phone_number": float("nan"), "referral": ""})
    assert c.phone_number is None
    assert c.referral is None
    with pytest.raises(CustomerValidationError) as info:
        Customer.from_mapping({"name": "A", "email": "x", "website": "y"}, row=7)
    assert info.value.row == 7
    assert set(info.value.fields) == {"website", "email", "source"}
    assert "in row 7" in str(info.value)


# -- the derived external_customer_id ---------------------------------------------------------


def test_a_customer_without_an_id_gets_one_derived_from_website_and_email() -> None:
    first = Customer(**GOOD)
    assert first.external_customer_id == derived_external_id(GOOD["source"], GOOD["email"])
    assert len(first.external_customer_id) == len("nb-") + 20
    # the same customer written another way, or in another run, has the same id
    same = [Customer(name="A. Ruiz", email="ANA@Example.com", source="ana.example.com"),
            Customer(name="Ana", email="ana@example.com", source="http://www.ana.example.com/"),
            Customer(**GOOD, phone_number="+14155550132"),
            Customer.from_mapping({**GOOD, "external_customer_id": float("nan")})]
    assert {c.external_customer_id for c in same} == {first.external_customer_id}
    # another business or another person is another customer
    others = [Customer(**{**GOOD, "email": "bo@example.com"}),
              Customer(**{**GOOD, "source": "https://ana.example.com/shop"}),
              Customer(**{**GOOD, "source": "https://ana.example.com:8443"}),
              Customer(**{**GOOD, "source": "https://maps.google.com/?cid=1"}),
              Customer(**{**GOOD, "source": "https://maps.google.com/?cid=2"})]
    assert len({c.external_customer_id for c in [first, *others]}) == 6


def test_a_given_id_is_kept_and_a_bad_website_derives_nothing() -> None:
    assert Customer(**GOOD, external_customer_id=" crm-42 ").external_customer_id == "crm-42"
    with pytest.raises(CustomerValidationError) as bad:
        Customer(**{**GOOD, "source": "not a url"})
    assert [e.field for e in bad.value.errors] == ["source"]


@pytest.mark.parametrize("source", [
    "https://maps.google.com/?cid=123", "https://www.google.com/maps/place/Bella+Notte",
    "https://google.co.uk/maps/place/x", "https://maps.app.goo.gl/AbC123",
    "https://goo.gl/maps/xyz"])
def test_google_map_source_type_takes_a_google_maps_link(source: str) -> None:
    c = Customer(**{**GOOD, "source": source, "source_type": "Google-Map"})
    assert c.source_type == "google_map"
    assert ("source_type", "google_map") in c.to_arguments()


def test_source_type_is_sent_only_when_set() -> None:
    assert "source_type" not in dict(Customer(**GOOD).to_arguments())
    website = Customer(**{**GOOD, "source_type": "website"})
    arguments = [name for name, _ in website.to_arguments()]
    assert arguments[arguments.index("source") + 1] == "source_type"  # beside source
    assert Customer.from_mapping({**GOOD, "source_type": float("nan")}).source_type is None
