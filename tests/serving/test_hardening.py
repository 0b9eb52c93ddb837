"""The API under attack or misuse: no secrets shown, clear 4xx, no stalls (issue 16)."""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.models import ModelStore
from serving.schemas import ScoreResponse
from serving.snapshots import FeatureSnapshot, SourceChangedError
from tests.support.serving import API_KEY, make_bundle, make_service, test_settings
from training.uplift import ActionEffect

AUTH = {"X-API-Key": API_KEY}


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(test_settings(), make_service(n=20))) as client:
        yield client


def test_readyz_and_logs_never_show_the_registry_password(tmp_path, caplog, monkeypatch):
    from serving.models import load_from_cache

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    cache = tmp_path / "cache"
    _fill_cache(cache)  # champions copied there earlier
    uri = "http://bob:s3cret-pw@127.0.0.1:9/"  # nothing listens on port 9
    with caplog.at_level(logging.WARNING):
        store = ModelStore.open(uri, cache)
    assert store.bundle.versions == load_from_cache(cache).versions
    service = make_service(n=5, store=store)
    with TestClient(create_app(test_settings(), service)) as client:
        ready = client.get("/readyz").json()
    assert "127.0.0.1:9" in ready["registry_error"]  # still says what is wrong
    assert "s3cret-pw" not in str(ready) and "bob" not in str(ready)
    assert "s3cret-pw" not in caplog.text and "127.0.0.1:9" in caplog.text


def _fill_cache(cache: Path) -> None:
    """Champions saved as the registry path would leave them in the cache."""
    import json

    import mlflow.pyfunc

    from tests.support.serving import make_model

    index = {}
    for target in ("churn", "upsell"):
        folder = cache / f"retain-{target}" / "1-run"
        mlflow.pyfunc.save_model(str(folder), python_model=make_model(target, trees=5))
        index[f"retain-{target}"] = {"version": "1", "folder": folder.name}
    (cache / "champions.json").write_text(json.dumps(index))


def test_empty_api_keys_make_readyz_not_ready():
    with TestClient(create_app(test_settings(api_keys=""), make_service(n=5))) as bare:
        ready = bare.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["ready"] is False and "RETAIN_API_KEYS" in ready.json()["status"]


def test_a_key_shorter_than_16_characters_is_refused_at_start():
    with pytest.raises(ValueError, match="at least 16 characters") as refused:
        create_app(test_settings(api_keys=f"{API_KEY},short-key"), make_service(n=5))
    assert "short-key" not in str(refused.value)  # named by its start only


def test_a_body_that_is_not_json_is_415(client):
    response = client.post(
        "/v1/score",
        content=b'{"account_ids": ["acct-0001"]}',
        headers={**AUTH, "Content-Type": "text/plain"},
    )
    assert response.status_code == 415 and "application/json" in response.json()["detail"]


def test_a_huge_account_id_in_the_path_is_refused_without_echoing_it(client):
    huge = "x" * 60_000  # (httpx itself refuses URLs over 64 KB)
    response = client.get(f"/v1/accounts/{huge}", headers=AUTH)
    assert response.status_code == 422
    assert len(response.text) < 1_000


def test_an_account_id_too_long_in_a_body_is_said_in_characters_not_items(client):
    """docs/operations.md: ids are at most 200 characters; the 422 must say characters."""
    too_long = {"account_ids": ["x" * 201]}
    response = client.post("/v1/score", json=too_long, headers=AUTH)
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body", "account_ids", 0]
    assert "200 characters" in problem["msg"] and "items" not in problem["msg"]
    assert "x" * 201 not in response.text


@pytest.mark.parametrize(
    "as_of",
    ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "20250101", "2025-13-01"],
)
def test_as_of_outside_the_calendar_or_not_iso_is_422_on_both_endpoints(client, as_of):
    posted = client.post(
        "/v1/score", json={"account_ids": ["acct-0001"], "as_of": as_of}, headers=AUTH
    )
    got = client.get("/v1/accounts/acct-0001", params={"as_of": as_of}, headers=AUTH)
    assert posted.status_code == 422 and got.status_code == 422
    assert "as_of" in posted.text and "as_of" in got.text


def test_as_of_with_an_offset_is_read_as_utc(client):
    body = client.post(
        "/v1/score",
        json={"account_ids": ["acct-0001"], "as_of": "2026-06-01T02:00:00+02:00"},
        headers=AUTH,
    ).json()
    assert body["as_of"] == "2026-06-01T00:00:00Z"  # the latest snapshot, in UTC


def test_docs_load_their_assets_from_this_server_not_a_cdn(client):
    page = client.get("/docs").text
    assert "cdn." not in page and "/docs-assets/swagger-ui-bundle.js" in page
    script = client.get("/docs-assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000
    assert client.get("/docs-assets/swagger-ui.css").status_code == 200


class SlowUplift:
    """An uplift model whose effects wait for `release` once armed (a slow computation)."""

    def __init__(self) -> None:
        self.config = None
        self.actions_ = ["exec_sponsor_call"]
        self.armed = False
        self.release = threading.Event()
        self.started = threading.Event()
        self.calls = 0

    def effects(self, X: pd.DataFrame) -> dict[str, ActionEffect]:
        if self.armed:
            self.calls += 1
            self.started.set()
            self.release.wait(60)
        n = len(X)
        text = np.full(n, "learned", dtype=object)
        return {"exec_sponsor_call": ActionEffect(np.full(n, -0.1), np.full(n, 0.01), text, text)}


def _in_thread(work):
    done: dict[str, object] = {}
    thread = threading.Thread(target=lambda: done.setdefault("response", work()))
    thread.start()
    return thread, done


def test_a_new_as_of_never_stalls_the_server_and_is_computed_once_and_bounded():
    uplift = SlowUplift()
    service = make_service(n=20, bundle=make_bundle(uplift=uplift))
    dates = ["2026-01-01", "2026-02-01", "2026-03-01"]
    for day in dates:  # features in memory already: only the effects are missing
        service.features.snapshot(pd.Timestamp(day).to_pydatetime())
    uplift.armed = True
    with TestClient(create_app(test_settings(), service)) as client:

        def ask(day: str, account: str = "acct-0001") -> httpx.Response:
            return client.get(f"/v1/accounts/{account}", params={"as_of": day}, headers=AUTH)

        first, first_done = _in_thread(lambda: ask(dates[0]))
        assert uplift.started.wait(30)
        same, same_done = _in_thread(lambda: ask(dates[0], "acct-0002"))
        health, health_done = _in_thread(lambda: client.get("/healthz"))
        health.join(20)
        assert "response" in health_done  # the event loop is free while effects compute
        other, other_done = _in_thread(lambda: ask(dates[1]))
        while uplift.calls < 2:  # the second date is computing too: both slots taken
            uplift.started.wait(0.05)
        refused = ask(dates[2])
        assert refused.status_code == 503 and int(refused.headers["Retry-After"]) > 0
        uplift.release.set()
        for thread in (first, same, other):
            thread.join(60)
    assert [d["response"].status_code for d in (first_done, same_done, other_done)] == [200] * 3
    assert uplift.calls == 2  # two dates, one computation each, however many asked


def test_a_source_file_changed_after_start_is_503_and_shown_in_readyz(tmp_path):
    service = make_service(n=5)
    changed = tmp_path / "accounts.parquet"
    changed.write_bytes(b"PAR1 whole file")
    from serving.snapshots import file_fingerprints

    service.features.fingerprints = file_fingerprints({"accounts": str(changed)})
    original = service.features._compute
    assert original is not None  # make_service's store computes other dates

    # what `FeatureStore.from_source` does with its fingerprints
    def compute(when: datetime) -> FeatureSnapshot:
        from serving.snapshots import changed_files

        if changed_files(service.features.fingerprints):
            raise SourceChangedError("source files changed since the service started")
        return original(when)

    service.features._compute = compute
    changed.write_bytes(b"PAR1 trunc")  # truncated after start
    with TestClient(create_app(test_settings(), service)) as client:
        historical = client.get(
            "/v1/accounts/acct-0001", params={"as_of": "2026-01-01"}, headers=AUTH
        )
        latest = client.get("/v1/accounts/acct-0001", headers=AUTH)
        ready = client.get("/readyz").json()
    assert historical.status_code == 503 and "changed" in historical.json()["detail"]
    assert latest.status_code == 200  # the latest snapshot is in memory and still serves
    assert ready["status"].startswith("degraded") and "accounts.parquet" in ready["data_error"]


class BrokenUplift:
    """An uplift model that loads but fails on the features (pickled by an older retain)."""

    config = None
    actions_ = ("exec_sponsor_call",)

    def effects(self, X: pd.DataFrame) -> dict[str, ActionEffect]:
        raise AttributeError("'UpliftConfig' object has no attribute 'confidence'")


def test_an_uplift_model_failing_at_warm_up_leaves_the_playbook_and_shows_in_readyz():
    service = make_service(n=8, bundle=make_bundle(uplift=BrokenUplift()))
    bundle = service.models.bundle
    assert bundle.uplift is None and "retain-uplift" not in bundle.model_version
    with TestClient(create_app(test_settings(), service)) as client:
        ready = client.get("/readyz").json()
        score = client.get("/v1/accounts/acct-0001", headers=AUTH).json()
    assert "confidence" in ready["uplift_error"] and ready["status"].startswith("degraded")
    assert {action["basis"] for action in score["actions"]} <= {"playbook"}
    assert score["model_version"] == bundle.model_version


def _asgi_get_or_post(app, path: str, log: list[str], name: str, body: bytes = b""):
    """Call the ASGI app directly (one event loop for every request); log each body message."""
    import asyncio

    method = "POST" if body else "GET"
    headers = [(b"host", b"test"), (b"x-api-key", API_KEY.encode())]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": headers, "client": ("test", 1), "server": ("test", 80),
    }  # fmt: skip
    chunks: list[bytes] = []
    length: list[int] = []
    asked = False

    async def receive() -> dict[str, object]:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never goes away
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            length.extend(int(v) for k, v in message["headers"] if k == b"content-length")  # type: ignore[attr-defined]
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))  # type: ignore[arg-type]
            if not message.get("more_body"):
                log.append(name)

    async def call() -> bytes:
        await app(scope, receive, send)
        assert length == [sum(map(len, chunks))]  # the Content-Length of the whole body
        return b"".join(chunks)

    return call()


def test_single_accounts_are_answered_between_the_slices_of_big_batches(monkeypatch):
    import asyncio
    import json

    monkeypatch.setattr("serving.app.STREAM_ACCOUNTS", 50)  # 8 slices of a 400-account batch
    service = make_service(n=400)  # latest scores in memory: a batch is only sent out
    app = create_app(test_settings(), service)
    ids = [f"acct-{i:04d}" for i in range(400)]
    body = json.dumps({"account_ids": ids}).encode()
    done: list[str] = []

    async def traffic() -> list[bytes]:
        first = asyncio.ensure_future(_asgi_get_or_post(app, "/v1/score", done, "batch 1", body))
        second = asyncio.ensure_future(_asgi_get_or_post(app, "/v1/score", done, "batch 2", body))
        for _ in range(3):  # both batches have started sending
            await asyncio.sleep(0)
        singles = [
            _asgi_get_or_post(app, f"/v1/accounts/acct-{i:04d}", done, "single") for i in range(4)
        ]
        return await asyncio.gather(first, second, *singles)

    batch_1, batch_2, *singles = asyncio.run(traffic())
    assert done.index("single") < done.index("batch 1")  # not stuck behind a 400-account batch
    assert done[-1] == "batch 2"  # and the second batch waited for the first
    snapshot, bundle, scores, unknown = service.score(ids)
    whole = ScoreResponse(
        as_of=snapshot.as_of, model_version=bundle.model_version, scores=scores, unknown=unknown
    )
    assert batch_1 == batch_2 == whole.model_dump_json().encode()  # the same bytes, in slices
    assert [json.loads(s)["account_id"] for s in singles] == ids[:4]


def test_a_big_batch_at_another_date_is_the_same_answer_as_small_ones():
    service = make_service(n=30)
    ids = [f"acct-{i:04d}" for i in range(30)]
    with TestClient(create_app(test_settings(), service)) as client:

        def post(account_ids: list[str]) -> dict[str, Any]:
            body = {"account_ids": account_ids, "as_of": "2026-01-01"}
            response = client.post("/v1/score", json=body, headers=AUTH)
            assert response.status_code == 200
            return response.json()  # type: ignore[no-any-return]

        big = post([*ids, "nobody"])  # serialised on the batch thread
        small = [post(ids[i : i + 10]) for i in range(0, 30, 10)]  # by FastAPI, on the loop
    assert big["scores"] == [score for part in small for score in part["scores"]]
    assert [u["account_id"] for u in big["unknown"]] == ["nobody"]
