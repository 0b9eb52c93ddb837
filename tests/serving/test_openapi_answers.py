"""Every answer follows `/openapi.json`: each route's declared errors, triggered one by one.

Sixth audit: a malformed body gave 400 with a list where a string was declared, an `as_of`
past the data 422 with a string where FastAPI's list was declared, and the touchpoint
routes answered 400 and 401 they did not declare. The walk below takes every route and
every status it declares from the schema the service publishes, triggers it, and
validates the body against the declared schema, times and dates included.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import jsonschema
import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.snapshots import SourceChangedError
from tests.support.serving import API_KEY, AS_OF, make_service, planned_service, test_settings
from tests.support.stores import DOWN

AUTH = {"X-API-Key": API_KEY}
JSON = {**AUTH, "content-type": "application/json"}
LIMIT = 4_000  # bytes of a request body (413 beyond)
TOUCHPOINT = {
    "touchpoint_id": "crm-1",
    "account_id": "acct-0003",
    "type": "health_check",
    "ts": "2026-06-02T09:30:00+02:00",
}
EARLIER = (AS_OF - timedelta(days=7)).isoformat()
LATER = (AS_OF + timedelta(days=7)).isoformat()


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """`up`: all works; `down`: the store is down and other dates' features fail; `keyless`."""
    store = f"sqlite:///{tmp_path_factory.mktemp('answers')}/store.db"
    broken = planned_service(20)

    def source_changed(as_of: Any) -> Any:
        raise SourceChangedError("source files changed since the service started")

    broken.features._compute = source_changed
    working = create_app(test_settings(store_url=store, max_body_bytes=LIMIT), planned_service(20))
    bare = create_app(test_settings(store_url=store, api_keys=""), make_service(n=5))
    with (
        TestClient(working) as up,
        TestClient(create_app(test_settings(store_url=DOWN), broken)) as down,
        TestClient(bare) as keyless,
    ):
        yield SimpleNamespace(up=up, down=down, keyless=keyless)


def _touchpoint_twice(c: SimpleNamespace) -> httpx.Response:
    c.up.post("/v1/touchpoints", json=TOUCHPOINT, headers=AUTH)
    return c.up.post("/v1/touchpoints", json={**TOUCHPOINT, "type": "training"}, headers=AUTH)


Trigger = Callable[[SimpleNamespace], httpx.Response]
TRIGGERS: dict[tuple[str, str, str], list[Trigger]] = {
    ("post", "/v1/score", "200"): [
        lambda c: c.up.post("/v1/score", json={"account_ids": ["acct-0001", "x"]}, headers=AUTH),
        lambda c: c.up.post(
            "/v1/score", json={"account_ids": ["acct-0001"], "as_of": EARLIER}, headers=AUTH
        ),
    ],
    ("post", "/v1/score", "400"): [
        lambda c: c.up.post("/v1/score", content=b'{"account_ids": [', headers=JSON)
    ],
    ("post", "/v1/score", "401"): [
        lambda c: c.up.post("/v1/score", json={"account_ids": ["acct-0001"]})
    ],
    ("post", "/v1/score", "413"): [
        lambda c: c.up.post("/v1/score", json={"account_ids": ["a" * LIMIT]}, headers=AUTH)
    ],
    ("post", "/v1/score", "415"): [
        lambda c: c.up.post(
            "/v1/score", content=b"acct-0001", headers={**AUTH, "content-type": "text/plain"}
        )
    ],
    ("post", "/v1/score", "422"): [
        lambda c: c.up.post("/v1/score", json={"account_ids": []}, headers=AUTH),
        lambda c: c.up.post(
            "/v1/score", json={"account_ids": ["acct-0001"], "as_of": LATER}, headers=AUTH
        ),  # after the data: was a string where a list is declared
    ],
    ("post", "/v1/score", "503"): [
        lambda c: c.down.post(
            "/v1/score", json={"account_ids": ["acct-0001"], "as_of": EARLIER}, headers=AUTH
        )
    ],
    ("get", "/v1/accounts/{account_id}", "200"): [
        lambda c: c.up.get("/v1/accounts/acct-0002", headers=AUTH),
        lambda c: c.up.get("/v1/accounts/acct-0002", params={"as_of": EARLIER}, headers=AUTH),
    ],
    ("get", "/v1/accounts/{account_id}", "401"): [lambda c: c.up.get("/v1/accounts/acct-0002")],
    ("get", "/v1/accounts/{account_id}", "404"): [
        lambda c: c.up.get("/v1/accounts/nobody", headers=AUTH)
    ],
    ("get", "/v1/accounts/{account_id}", "422"): [
        lambda c: c.up.get("/v1/accounts/acct-0002", params={"as_of": "soon"}, headers=AUTH),
        lambda c: c.up.get("/v1/accounts/acct-0002", params={"as_of": LATER}, headers=AUTH),
    ],
    ("get", "/v1/accounts/{account_id}", "503"): [
        lambda c: c.down.get("/v1/accounts/acct-0002", params={"as_of": EARLIER}, headers=AUTH)
    ],
    ("get", "/v1/models", "200"): [lambda c: c.up.get("/v1/models", headers=AUTH)],
    ("get", "/v1/models", "401"): [lambda c: c.up.get("/v1/models")],
    ("get", "/healthz", "200"): [lambda c: c.up.get("/healthz")],
    ("get", "/readyz", "200"): [lambda c: c.up.get("/readyz")],
    ("get", "/readyz", "503"): [lambda c: c.keyless.get("/readyz")],
    ("post", "/v1/touchpoints", "201"): [
        lambda c: c.up.post("/v1/touchpoints", json=TOUCHPOINT, headers=AUTH)
    ],
    ("post", "/v1/touchpoints", "400"): [
        lambda c: c.up.post("/v1/touchpoints", content=b'{"touchpoint_id": ', headers=JSON)
    ],
    ("post", "/v1/touchpoints", "401"): [lambda c: c.up.post("/v1/touchpoints", json=TOUCHPOINT)],
    ("post", "/v1/touchpoints", "409"): [_touchpoint_twice],
    ("post", "/v1/touchpoints", "413"): [
        lambda c: c.up.post(
            "/v1/touchpoints", json={**TOUCHPOINT, "notes": "n" * LIMIT}, headers=AUTH
        )
    ],
    ("post", "/v1/touchpoints", "422"): [
        lambda c: c.up.post("/v1/touchpoints", json={**TOUCHPOINT, "type": "x"}, headers=AUTH),
        lambda c: c.up.post(
            "/v1/touchpoints", json={**TOUCHPOINT, "account_id": "nobody"}, headers=AUTH
        ),
    ],
    ("post", "/v1/touchpoints", "503"): [
        lambda c: c.down.post("/v1/touchpoints", json=TOUCHPOINT, headers=AUTH)
    ],
    ("get", "/v1/accounts/{account_id}/touchpoints", "200"): [
        lambda c: c.up.get("/v1/accounts/acct-0003/touchpoints", headers=AUTH)
    ],
    ("get", "/v1/accounts/{account_id}/touchpoints", "401"): [
        lambda c: c.up.get("/v1/accounts/acct-0003/touchpoints")
    ],
    ("get", "/v1/accounts/{account_id}/touchpoints", "404"): [
        lambda c: c.up.get("/v1/accounts/nobody/touchpoints", headers=AUTH)
    ],
    ("get", "/v1/accounts/{account_id}/touchpoints", "422"): [
        lambda c: c.up.get(f"/v1/accounts/{'a' * 201}/touchpoints", headers=AUTH)
    ],
    ("get", "/v1/accounts/{account_id}/touchpoints", "503"): [
        lambda c: c.down.get("/v1/accounts/acct-0003/touchpoints", headers=AUTH)
    ],
    ("get", "/v1/plan", "200"): [
        lambda c: c.up.get("/v1/plan", params={"csm": "dana"}, headers=AUTH)
    ],
    ("get", "/v1/plan", "401"): [lambda c: c.up.get("/v1/plan")],
    ("get", "/v1/plan", "404"): [
        lambda c: c.up.get("/v1/plan", params={"csm": "nobody"}, headers=AUTH)
    ],
    ("get", "/v1/plan", "422"): [
        lambda c: c.up.get("/v1/plan", params={"week": "next week"}, headers=AUTH)
    ],
    ("get", "/v1/plan", "503"): [lambda c: c.down.get("/v1/plan", headers=AUTH)],
}
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
FORMATS = jsonschema.FormatChecker()
FORMATS.checks("date-time")(lambda v: not isinstance(v, str) or bool(RFC3339.fullmatch(v)))
FORMATS.checks("date")(
    lambda v: not isinstance(v, str) or bool(re.fullmatch(r"\d{4}-\d\d-\d\d", v))
)


def declared(spec: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(method, path, status, schema of the JSON body) of every answer the spec declares."""
    answers = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                answers.append((method, path, status, schema or {}))
    return answers


def test_every_declared_answer_is_given_in_the_declared_shape(clients: SimpleNamespace) -> None:
    spec = clients.up.get("/openapi.json").json()
    answers = declared(spec)
    assert {(m, p, s) for m, p, s, _ in answers} == set(TRIGGERS)  # each declared, each here
    for method, path, status, schema in answers:
        for trigger in TRIGGERS[(method, path, status)]:
            response = trigger(clients)
            where = f"{method.upper()} {path} -> {response.status_code} {response.text[:300]}"
            assert str(response.status_code) == status, where
            validator = jsonschema.Draft202012Validator(
                {**schema, "components": spec["components"]}, format_checker=FORMATS
            )
            errors = [e.message for e in validator.iter_errors(response.json())]
            assert not errors, f"{where}: {errors[:3]}"


def test_a_field_error_names_the_field_it_is_about(clients: SimpleNamespace) -> None:
    later = {"account_ids": ["acct-0001"], "as_of": LATER}
    posted = clients.up.post("/v1/score", json=later, headers=AUTH).json()["detail"]
    got = clients.up.get("/v1/accounts/acct-0001", params={"as_of": LATER}, headers=AUTH)
    week = clients.up.get("/v1/plan", params={"week": "2026-13-01"}, headers=AUTH)
    assert [e["loc"] for e in posted] == [["body", "as_of"]]
    assert "after the latest data" in posted[0]["msg"]
    assert [e["loc"] for e in got.json()["detail"]] == [["query", "as_of"]]
    assert week.status_code == 422 and week.json()["detail"][0]["loc"] == ["query", "week"]
