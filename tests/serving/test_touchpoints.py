"""Touchpoints through the API: validated field by field, idempotent, durable, 503 when down."""

from __future__ import annotations

import contextlib
import unicodedata
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import duckdb
import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from store import Plan, PlanLine, Store, Touchpoint
from tests.support.serving import API_KEY, make_service, test_settings
from tests.support.stores import DOWN, postgres_store_url

AUTH = {"X-API-Key": API_KEY}
BODY = {
    "touchpoint_id": "crm-001",
    "account_id": "acct-0003",
    "type": "health_check",
    "ts": "2026-06-02T09:30:00+02:00",
    "owner": "dana",
    "notes": "walked through the new dashboard",
}


@pytest.fixture(scope="module")
def service():
    return make_service(n=20)


def client_for(service, store_url: str, **settings: object) -> TestClient:
    return TestClient(create_app(test_settings(store_url=store_url, **settings), service))


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/var/retain-store.db"


@pytest.fixture
def client(service, store_url: str) -> Iterator[TestClient]:
    with client_for(service, store_url) as client:
        yield client


def post(client: TestClient, **changes: object):
    return client.post("/v1/touchpoints", json={**BODY, **changes}, headers=AUTH)


def test_a_touchpoint_is_recorded_once_and_read_back(client: TestClient, store_url: str) -> None:
    first = post(client)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["ts"] == "2026-06-02T07:30:00Z"  # in UTC, saying so (JavaScript reads local)
    assert body["recorded_at"].endswith("Z")
    naive = post(client, touchpoint_id="crm-naive", ts="2026-06-02T09:30:00")
    assert naive.json()["ts"] == "2026-06-02T09:30:00Z"  # no offset: UTC, by the contract
    assert (body["account_id"], body["type"], body["owner"]) == (
        "acct-0003",
        "health_check",
        "dana",
    )
    again = post(client)
    assert (again.status_code, again.json()) == (201, body)  # the same answer
    assert again.headers["Idempotent-Replayed"] == "true"
    read = client.get("/v1/accounts/acct-0003/touchpoints", headers=AUTH)
    assert read.status_code == 200
    assert read.json() == {"account_id": "acct-0003", "touchpoints": [body, naive.json()]}
    assert len(Store(store_url).touchpoints()) == 2  # stored once each
    upper = client.get("/v1/accounts/ACCT-0003/touchpoints", headers=AUTH)  # a CRM's spelling
    assert upper.json() == {"account_id": "acct-0003", "touchpoints": [body, naive.json()]}
    assert (
        client.get("/v1/accounts/acct-0004/touchpoints", headers=AUTH).json()["touchpoints"] == []
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "send_flowers"}, "type"),
        ({"account_id": "acct-9999"}, "account_id"),
        ({"ts": (datetime.now() + timedelta(days=3)).isoformat()}, "ts"),
        ({"ts": 1780000000}, "ts"),
        ({"touchpoint_id": ""}, "touchpoint_id"),
        ({"plan_line_id": "line-404"}, "plan_line_id"),
        ({"channel": "email"}, "channel"),
        ({"notes": "a\u0000b"}, "notes"),  # PostgreSQL keeps no NUL: it was a 500 there
        ({"owner": "dana\u0000"}, "owner"),
    ],
)
def test_bad_input_gets_422_naming_the_field_and_stores_nothing(
    client: TestClient, store_url: str, change: dict[str, object], field: str
) -> None:
    response = post(client, **change)
    assert response.status_code == 422, response.text
    assert [error["loc"][-1] for error in response.json()["detail"]] == [field]
    assert Store(store_url).touchpoints().empty


def test_the_same_id_with_other_content_is_409_naming_the_fields(client: TestClient) -> None:
    assert post(client).status_code == 201
    response = post(client, type="exec_sponsor_call")
    assert response.status_code == 409
    assert "crm-001" in response.json()["detail"] and "type" in response.json()["detail"]


def test_a_touchpoint_may_follow_a_stored_plan_line(client: TestClient, store_url: str) -> None:
    Store(store_url).save_plan(
        Plan(
            "plan-1", datetime(2026, 6, 1).date(), [PlanLine("line-7", "acct-0003", "health_check")]
        )
    )
    response = post(client, plan_line_id="line-7")
    assert response.status_code == 201, response.text
    assert response.json()["plan_line_id"] == "line-7"


@pytest.mark.parametrize(
    ("line", "change", "status", "field"),
    [  # the week began 1 June; BODY is a health check on 2 June
        (PlanLine("line-c", "acct-0003", "health_check", arm="control"), {}, 409, None),
        (PlanLine("line-b", "acct-0003", "business_review"), {}, 422, "type"),
        (
            PlanLine("line-e", "acct-0003", "health_check"),
            {"ts": "2026-05-20T10:00:00Z"},
            422,
            "ts",
        ),
        (  # a few days early still follows it: the plan is made before its week
            PlanLine("line-f", "acct-0003", "health_check"),
            {"ts": "2026-05-29T10:00:00Z"},
            201,
            None,
        ),
    ],
)
def test_a_touchpoint_that_contradicts_its_plan_line_is_refused(
    client: TestClient, store_url: str, line: PlanLine, change: dict, status: int, field: str | None
) -> None:
    """Fifth audit: the API stored a touchpoint following a control line (held back: not to
    be done), another action's line, or a line of a week long after it was done."""
    Store(store_url).save_plan(Plan("plan-1", datetime(2026, 6, 1).date(), [line]))
    response = post(client, plan_line_id=line.plan_line_id, **change)
    assert response.status_code == status, response.text
    if status == 201:
        assert Store(store_url).touchpoints()["plan_line_id"].tolist() == [line.plan_line_id]
        return
    if field is None:
        assert "without plan_line_id" in response.json()["detail"]
    else:
        assert [error["loc"][-1] for error in response.json()["detail"]] == [field]
    assert Store(store_url).touchpoints().empty
    assert post(client, **change).status_code == 201  # without the line it is recorded


def test_a_touchpoint_stored_before_the_plan_line_checks_is_still_replayed(
    client: TestClient, store_url: str
) -> None:
    """Idempotent: a client retrying what the store took before it checked plan lines gets
    the first answer, not a refusal."""
    store = Store(store_url)
    store.save_plan(
        Plan("plan-1", datetime(2026, 6, 1).date(), [PlanLine("line-b", "acct-0003", "training")])
    )
    store.check()  # the tables are there
    with store.engine.begin() as connection:  # as an older store would have taken it
        connection.execute(
            store._t("touchpoints")
            .insert()
            .values(
                **Touchpoint(
                    touchpoint_id="crm-001",
                    account_id="acct-0003",
                    ts=datetime(2026, 6, 2, 7, 30),
                    type="health_check",
                    owner="dana",
                    notes="walked through the new dashboard",
                    plan_line_id="line-b",
                ).row(),
                recorded_at=datetime(2026, 6, 2, 8),
            )
        )
    again = post(client, plan_line_id="line-b")
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"


def test_an_account_known_only_to_the_source_is_accepted(service, store_url: str) -> None:
    con = duckdb.connect()
    gone = unicodedata.normalize("NFD", "Café-gone")  # as the export spells it
    con.execute(
        "CREATE TABLE accounts AS SELECT * FROM (VALUES ('acct-gone'), (?)) t(account_id)", [gone]
    )
    original = service.features.source
    service.features.source = SimpleNamespace(con=con)  # churned: not in the latest snapshot
    try:
        with client_for(service, store_url) as client:
            assert post(client, account_id="acct-gone").status_code == 201
            assert post(client, touchpoint_id="x", account_id="acct-none").status_code == 422
            typed = post(client, touchpoint_id="y", account_id="Café-gone")  # composed
            assert typed.status_code == 201 and typed.json()["account_id"] == gone
    finally:
        service.features.source = original


def test_touchpoints_survive_a_restart(service, store_url: str) -> None:
    with client_for(service, store_url) as client:
        assert post(client).status_code == 201
    with client_for(service, store_url) as restarted:
        read = restarted.get("/v1/accounts/acct-0003/touchpoints", headers=AUTH)
        assert [t["touchpoint_id"] for t in read.json()["touchpoints"]] == ["crm-001"]


def test_touchpoints_need_the_api_key(client: TestClient) -> None:
    assert client.post("/v1/touchpoints", json=BODY).status_code == 401
    assert client.get("/v1/accounts/acct-0003/touchpoints").status_code == 401


def test_a_store_that_is_down_gives_503_and_readyz_says_so(service) -> None:
    with client_for(service, DOWN, score_log_sample=1.0) as client:
        response = post(client)
        assert response.status_code == 503
        assert "unavailable" in response.json()["detail"]
        read = client.get("/v1/accounts/acct-0003/touchpoints", headers=AUTH)
        assert read.status_code == 503
        ready = client.get("/readyz").json()
        assert ready["store_error"] and "127.0.0.1:1" in ready["store_error"]
        assert "store" in ready["status"]
        # scoring still answers; the scores it could not log are counted
        score = client.post("/v1/score", json={"account_ids": ["acct-0001"]}, headers=AUTH)
        assert score.status_code == 200
        client.app.state.score_log.flush()  # type: ignore[attr-defined]
        metrics = client.get("/metrics").text
        assert 'retain_score_log_rows_total{outcome="failed"} 1.0' in metrics
        assert 'retain_touchpoints_total{outcome="store_unavailable"} 2.0' in metrics


def test_readyz_has_no_store_error_when_the_store_answers(client: TestClient) -> None:
    assert client.get("/readyz").json()["store_error"] is None


@pytest.mark.postgres
def test_touchpoints_through_the_api_into_postgresql(service) -> None:
    with postgres_store_url() as url, client_for(service, url) as client:
        assert post(client).status_code == 201
        assert post(client).status_code == 201
        assert post(client, type="exec_sponsor_call").status_code == 409
        read = client.get("/v1/accounts/acct-0003/touchpoints", headers=AUTH)
        assert [t["touchpoint_id"] for t in read.json()["touchpoints"]] == ["crm-001"]


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_store_emptied_while_serving_is_created_again_not_500(service, tmp_path, kind) -> None:
    # Sixth audit: the store's database dropped and made again while `retain serve` ran gave
    # 500 on every touchpoint (no such table) while /readyz said the store was ok.
    from tests.store.test_recreated import drop_everything

    with contextlib.ExitStack() as stack:
        url = f"sqlite:///{tmp_path}/s.db"
        if kind == "postgresql":
            url = stack.enter_context(postgres_store_url())
        client = stack.enter_context(client_for(service, url, score_log_sample=1.0))
        assert post(client).status_code == 201
        drop_everything(client.app.state.store)  # type: ignore[attr-defined]
        ready = client.get("/readyz").json()
        assert ready["store_error"] is None and ready["status"] == "ok"  # created again
        assert (
            client.get("/v1/accounts/acct-0003/touchpoints", headers=AUTH).json()["touchpoints"]
            == []
        )
        drop_everything(client.app.state.store)  # type: ignore[attr-defined]
        again = post(client)
        assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
        drop_everything(client.app.state.store)  # type: ignore[attr-defined]
        score = client.post("/v1/score", json={"account_ids": ["acct-0001"]}, headers=AUTH)
        assert score.status_code == 200
        client.app.state.score_log.flush()  # type: ignore[attr-defined]
        assert len(Store(url).score_log()) == 1
        assert 'retain_score_log_rows_total{outcome="failed"}' not in client.get("/metrics").text


def test_a_store_file_deleted_while_serving_is_created_again_on_disk(service, tmp_path) -> None:
    path = tmp_path / "s.db"
    with client_for(service, f"sqlite:///{path}") as client:
        assert post(client).status_code == 201
        for stale in tmp_path.glob("s.db*"):
            stale.unlink()
        assert post(client, touchpoint_id="crm-002").status_code == 201
    assert Store(f"sqlite:///{path}").touchpoints()["touchpoint_id"].tolist() == ["crm-002"]


def test_ids_with_a_slash_are_served_raw_or_encoded(store_url: str) -> None:
    # Fifth audit: ids like "cust/00400" (any string, by the contract) gave 404 on every
    # per-account URL, so 319 of a week's 431 plan lines could not be opened.
    from serving.snapshots import FeatureStore, snapshot_from_frames
    from tests.support.serving import AS_OF, random_features

    frame = random_features(5)
    frame["account_id"] = [f"cust/{i:05d}" for i in range(5)]
    service = make_service(n=5)
    service.features = FeatureStore(snapshot_from_frames(AS_OF, frame))
    service.warm(service.models.bundle)
    with client_for(service, store_url) as client:
        assert post(client, account_id="cust/00003").status_code == 201
        for path in ("cust/00003", "cust%2F00003"):
            one = client.get(f"/v1/accounts/{path}", headers=AUTH)
            assert one.status_code == 200, one.text
            assert one.json()["account_id"] == "cust/00003"
            read = client.get(f"/v1/accounts/{path}/touchpoints", headers=AUTH)
            assert read.status_code == 200, read.text
            assert [t["touchpoint_id"] for t in read.json()["touchpoints"]] == ["crm-001"]
        assert client.get("/v1/accounts/cust/99999", headers=AUTH).status_code == 404


def service_of(account_ids: list[str]):
    """A service over accounts of these ids."""
    from serving.snapshots import FeatureStore, snapshot_from_frames
    from tests.support.serving import AS_OF, random_features

    frame = random_features(len(account_ids))
    frame["account_id"] = account_ids
    service = make_service(n=len(account_ids))
    service.features = FeatureStore(snapshot_from_frames(AS_OF, frame))
    service.warm(service.models.bundle)
    return service


def numbered_service():
    """A service whose account ids are digits, as many CRMs number their companies."""
    return service_of([str(100000 + i) for i in range(5)])


def test_integer_ids_are_read_as_their_decimal_string(store_url: str) -> None:
    # Sixth audit: a CRM sending {"account_id": 100002} got a 422; the contract reads an
    # integer id as its decimal string. A float or a boolean is still no id.
    with client_for(numbered_service(), store_url) as client:
        scored = client.post("/v1/score", json={"account_ids": [100002, "100003"]}, headers=AUTH)
        assert scored.status_code == 200, scored.text
        assert [s["account_id"] for s in scored.json()["scores"]] == ["100002", "100003"]
        posted = post(client, touchpoint_id=7, account_id=100002)
        assert posted.status_code == 201, posted.text
        assert (posted.json()["touchpoint_id"], posted.json()["account_id"]) == ("7", "100002")
        assert post(client, touchpoint_id="7", account_id="100002").json() == posted.json()
        for wrong in (100002.0, True):
            refused = post(client, touchpoint_id="tp-x", account_id=wrong)
            assert refused.status_code == 422
            assert refused.json()["detail"][0]["loc"] == ["body", "account_id"]
            batch = client.post("/v1/score", json={"account_ids": [wrong]}, headers=AUTH)
            assert batch.status_code == 422
            assert batch.json()["detail"][0]["loc"] == ["body", "account_ids", 0]
        line = post(client, touchpoint_id="tp-y", plan_line_id=12)
        assert line.status_code == 422  # read as "12": no such plan line, not a type error
        assert line.json()["detail"][0]["type"] == "unknown"


def test_an_id_in_the_other_unicode_form_is_found_as_the_data_spells_it(store_url: str) -> None:
    # Sixth audit: `Café-3` typed by a CRM (composed, NFC) was not found where the export
    # holds it decomposed (NFD). Both directions; an exact match always wins; two ids of
    # the data equal in NFC are found by their exact spelling only.
    composed, decomposed = "Café-3", unicodedata.normalize("NFD", "Café-4")
    twins = (  # ḍ̇: composed and decomposed, both in the data
        unicodedata.normalize("NFC", "d\u0323\u0307-5"),
        unicodedata.normalize("NFD", "d\u0323\u0307-5"),
    )
    data = ["acct-0000", composed, decomposed, *twins]
    with client_for(service_of(data), store_url) as client:
        sent = [unicodedata.normalize("NFD", composed), unicodedata.normalize("NFC", decomposed)]
        scored = client.post("/v1/score", json={"account_ids": sent}, headers=AUTH).json()
        assert [s["account_id"] for s in scored["scores"]] == [composed, decomposed]
        one = client.get(f"/v1/accounts/{quote(sent[1])}", headers=AUTH)
        assert one.status_code == 200 and one.json()["account_id"] == decomposed
        exact = client.post("/v1/score", json={"account_ids": list(twins)}, headers=AUTH).json()
        assert [s["account_id"] for s in exact["scores"]] == list(twins)
        other = "\u1e0b\u0323-5"  # ḋ + dot below: the twins' NFC form, spelled neither way
        assert unicodedata.normalize("NFC", other) == twins[0]
        missed = client.post("/v1/score", json={"account_ids": [other]}, headers=AUTH).json()
        assert missed["scores"] == [] and missed["unknown"][0]["account_id"] == other

        posted = post(client, account_id=sent[0])
        assert posted.status_code == 201 and posted.json()["account_id"] == composed
        read = client.get(f"/v1/accounts/{quote(sent[0])}/touchpoints", headers=AUTH).json()
        assert read["account_id"] == composed and len(read["touchpoints"]) == 1
        assert post(client, touchpoint_id="crm-2", account_id=other).status_code == 422

        # one account in both forms is one account sent twice: refused, as an exact repeat is
        twice = client.post("/v1/score", json={"account_ids": [composed, sent[0]]}, headers=AUTH)
        assert twice.status_code == 422
        assert twice.json()["detail"][0]["loc"] == ["body", "account_ids"]
        assert "same account" in twice.json()["detail"][0]["msg"]


def test_a_store_that_answers_wrongly_is_reported_not_a_500() -> None:
    # the readiness check reads every table: a role that may not read one is said, not raised
    import sqlalchemy as sa
    from fastapi import FastAPI

    from serving.touchpoints import store_status

    class Refusing:
        def check(self) -> None:
            denied = Exception("permission denied for table score_log\nDETAIL: ...")
            raise sa.exc.ProgrammingError("SELECT ...", {}, denied)

    app = FastAPI()
    app.state.store = Refusing()
    said = store_status(app) or ""
    assert "permission denied for table score_log" in said and "DETAIL" not in said


def test_refusals_name_a_time_in_utc_as_responses_do(client: TestClient, store_url: str) -> None:
    # A message said "2099-01-01 10:00 UTC" or "2026-05-20 10:00" where the same time in
    # a response is 2099-01-01T10:00:00Z: one spelling, that a CRM can match.
    future = post(client, ts="2099-01-01T12:00:00+02:00").json()["detail"][0]["msg"]
    assert "2099-01-01T10:00:00Z is in the future" in future
    Store(store_url).save_plan(
        Plan(
            "plan-1", datetime(2026, 6, 1).date(), [PlanLine("line-e", "acct-0003", "health_check")]
        )
    )
    early = post(client, plan_line_id="line-e", ts="2026-05-20T10:00:00Z").json()["detail"][0]
    assert early["msg"].startswith("2026-05-20T10:00:00Z is more than 7 days before plan line")
