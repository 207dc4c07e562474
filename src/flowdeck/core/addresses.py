"""Page addresses (``experiment/1,2?filter=…``, ``run/<id>``, ``model/<name>/<v>``…): parse and format."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlencode

from flowdeck.core.errors import FlowdeckError

MAX_COMPARED = 10
ACROSS_GRAMMAR = "across/<store number>:<experiment id>[,…]"


class BadAddress(FlowdeckError):
    """An address that does not follow the address grammar (not: one that names nothing)."""


@dataclass(frozen=True)
class Address:
    """One page: its kind and the decoded parts that name what it shows.

    ``kind`` is one of ``KINDS``; ``ids`` hold experiment ids, run ids, a model name (and its
    version), a model or trace id; ``path`` is an artifact path; ``filter`` an MLflow filter.
    """

    kind: str
    ids: tuple[str, ...] = ()
    path: str = ""
    filter: str = ""

    def __str__(self) -> str:
        return format_address(self)

    @property
    def family(self) -> str:
        """The page type that shows this address (``run-artifacts`` is shown by the run page)."""
        return "run" if self.kind == "run-artifacts" else self.kind

    @property
    def first_id(self) -> str:
        return self.ids[0] if self.ids else ""


KINDS = (
    "experiment",
    "run",
    "run-artifacts",
    "compare",
    "models",
    "model",
    "model-version",
    "logged-models",
    "logged-model",
    "traces",
    "trace",
    "servers",
    "welcome",
    "across",
)
FILTERABLE = frozenset({"experiment", "traces", "models", "logged-models", "across"})
BARE_KINDS = ("models", "servers", "welcome")  # addresses without ids


def experiment_address(experiment_ids: list[str] | tuple[str, ...], filter_string: str = "") -> Address:
    return Address("experiment", tuple(experiment_ids), filter=filter_string)


def across_address(keys: list[str] | tuple[str, ...], filter_string: str = "") -> Address:
    """Experiments of several open stores, each ``<store number>:<experiment id>``."""
    return Address("across", tuple(keys), filter=filter_string)


def _store_keys(keys: tuple[str, ...], text: str) -> tuple[str, ...]:
    for key in keys:
        number, separator, item_id = key.partition(":")
        if not separator or not number.isdigit() or int(number) < 1 or not item_id:
            raise BadAddress(f"{text!r} is not a page address: expected {ACROSS_GRAMMAR}.")
    return keys


def run_address(run_id: str, artifact_path: str | None = None) -> Address:
    if artifact_path is None:
        return Address("run", (run_id,))
    return Address("run-artifacts", (run_id,), path=artifact_path.strip("/"))


def model_address(name: str, version: str | None = None) -> Address:
    if version is None:
        return Address("model", (name,))
    return Address("model-version", (name, str(version)))


def _enc(text: str) -> str:
    return quote(text, safe="")


def _enc_path(path: str) -> str:
    return "/".join(_enc(part) for part in path.split("/"))


def format_address(address: Address) -> str:
    """The address as text; names and ids percent-encoded (``/`` as ``%2F``, space as ``%20``)."""
    kind, ids = address.kind, address.ids
    if kind in BARE_KINDS:
        text = kind
    elif kind in ("experiment", "compare", "across"):
        text = f"{kind}/" + ",".join(_enc(i).replace("%3A", ":") for i in ids)
    elif kind == "run-artifacts":
        text = f"run/{_enc(ids[0])}/artifacts"
        if address.path:
            text += "/" + _enc_path(address.path)
    elif kind == "model-version":
        text = f"model/{_enc(ids[0])}/{_enc(ids[1])}"
    else:
        text = f"{kind}/{_enc(ids[0])}"
    if address.filter and kind in FILTERABLE:
        text += "?" + urlencode({"filter": address.filter}, quote_via=quote)
    return text


def parse_address(text: str) -> Address:
    """Parse an address; raises ``BadAddress`` with a plain message when it is malformed."""
    raw = text.strip()
    if raw.startswith("flowdeck:"):
        raw = raw[len("flowdeck:") :].lstrip("/")
    raw, _, query = raw.partition("?")
    raw = raw.strip("/")
    filter_string = ""
    if query:
        params = dict(parse_qsl(query, keep_blank_values=True))
        unknown = sorted(set(params) - {"filter"})
        if unknown:
            raise BadAddress(f"Unknown address option {unknown[0]!r} (only 'filter' is known).")
        filter_string = params.get("filter", "")
    segments = raw.split("/") if raw else []
    if not segments:
        raise BadAddress("The address is empty.")
    head, rest = segments[0], segments[1:]
    address = _parse_segments(head, rest, text)
    if filter_string:
        if address.kind not in FILTERABLE:
            raise BadAddress(f"A {head} page takes no filter.")
        address = Address(address.kind, address.ids, address.path, filter_string)
    return address


def _need(rest: list[str], count: int, text: str, what: str) -> list[str]:
    if len(rest) != count or any(not part for part in rest):
        raise BadAddress(f"{text!r} is not a page address: expected {what}.")
    return [unquote(part) for part in rest]


def _id_list(rest: list[str], text: str, what: str) -> tuple[str, ...]:
    if len(rest) != 1 or not rest[0]:
        raise BadAddress(f"{text!r} is not a page address: expected {what}.")
    ids = tuple(unquote(part) for part in rest[0].split(","))
    if any(not i for i in ids):
        raise BadAddress(f"{text!r} has an empty id in its list.")
    return ids


def _parse_segments(head: str, rest: list[str], text: str) -> Address:
    if head in BARE_KINDS:
        if rest:
            raise BadAddress(f"{text!r} is not a page address: '{head}' takes nothing after it.")
        return Address(head)
    if head == "experiment":
        return Address("experiment", _id_list(rest, text, "experiment/<id>[,<id>…]"))
    if head == "across":
        return Address("across", _store_keys(_id_list(rest, text, ACROSS_GRAMMAR), text))
    if head == "compare":
        ids = _id_list(rest, text, "compare/<run_id>,<run_id>[,…]")
        if not 2 <= len(ids) <= MAX_COMPARED:
            raise BadAddress(f"A comparison takes 2 to {MAX_COMPARED} runs, not {len(ids)}.")
        return Address("compare", ids)
    if head == "run":
        if len(rest) >= 2 and rest[1] == "artifacts" and rest[0]:
            path = "/".join(unquote(part) for part in rest[2:] if part)
            return Address("run-artifacts", (unquote(rest[0]),), path=path)
        return Address("run", tuple(_need(rest, 1, text, "run/<run_id>")))
    if head == "model":
        if len(rest) == 2:
            return Address("model-version", tuple(_need(rest, 2, text, "model/<name>/<version>")))
        return Address("model", tuple(_need(rest, 1, text, "model/<name>")))
    if head in ("logged-models", "logged-model", "traces", "trace"):
        return Address(head, tuple(_need(rest, 1, text, f"{head}/<id>")))
    raise BadAddress(
        f"{text!r} is not a page address. Pages: experiment/<id>, run/<run_id>, compare/<ids>, "
        "models, model/<name>[/<version>], logged-models/<experiment_id>, "
        "logged-model/<model_id>, traces/<experiment_id>, trace/<trace_id>, servers, welcome, "
        f"{ACROSS_GRAMMAR}."
    )
