"""Page addresses: every kind round-trips, names are percent-encoded, bad text is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowdeck.core.addresses import (
    Address,
    BadAddress,
    experiment_address,
    format_address,
    model_address,
    parse_address,
    run_address,
)

EXAMPLES = {
    "experiment/1,2": experiment_address(["1", "2"]),
    "experiment/3?filter=metrics.loss%20%3C%200.5": experiment_address(["3"], "metrics.loss < 0.5"),
    "run/abc": run_address("abc"),
    "run/abc/artifacts/plots/loss%20curve.png": run_address("abc", "plots/loss curve.png"),
    "compare/a,b,c": Address("compare", ("a", "b", "c")),
    "models": Address("models"),
    "models?filter=tags.team%20%3D%20%27vision%27": Address("models", filter="tags.team = 'vision'"),
    "model/team%2Fclassifier": model_address("team/classifier"),
    "model/my%20model/3": model_address("my model", "3"),
    "logged-models/7": Address("logged-models", ("7",)),
    "logged-models/7?filter=metrics.acc%20%3E%200.9": Address(
        "logged-models", ("7",), filter="metrics.acc > 0.9"
    ),
    "logged-model/m-123": Address("logged-model", ("m-123",)),
    "traces/7?filter=trace.status%20%3D%20%27ERROR%27": Address(
        "traces", ("7",), filter="trace.status = 'ERROR'"
    ),
    "trace/tr-1": Address("trace", ("tr-1",)),
    "servers": Address("servers"),
    "welcome": Address("welcome"),
}


@pytest.mark.parametrize("text", sorted(EXAMPLES))
def test_each_kind_parses_and_formats_back_exactly(text):
    assert parse_address(text) == EXAMPLES[text]
    assert format_address(EXAMPLES[text]) == text


@given(st.text(min_size=1).filter(lambda t: t.strip() == t), st.integers(min_value=1))
def test_any_model_name_round_trips(name, version):
    address = model_address(name, str(version))
    assert parse_address(str(address)) == address
    assert "/" not in str(address).split("/", 1)[1].rsplit("/", 1)[0]  # the name is one segment


@given(st.text(min_size=1))
def test_any_filter_round_trips(filter_string):
    address = experiment_address(["1"], filter_string)
    assert parse_address(str(address)).filter == filter_string


@pytest.mark.parametrize(
    "text",
    ["", "nowhere/1", "run", "run/", "models/extra", "compare/a", "compare/" + ",".join("abcdefghijk"),
     "experiment/1,,2", "run/a?filter=x", "experiment/1?sort=name"],
)
def test_malformed_addresses_are_refused_in_plain_words(text):
    with pytest.raises(BadAddress) as raised:
        parse_address(text)
    assert raised.value.message
