"""The scoring API: thin routes over `ScoringService`, models loaded once in the lifespan.

Run with `retain serve`. Scoring endpoints need an `X-API-Key` header; `/healthz`,
`/readyz`, `/metrics` and `/docs` do not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from actions.tiers import risk_tier_cuts
from features.units import use_currency
from serving import touchpoints
from serving.as_of import check_as_of
from serving.coverage import missing_families
from serving.docs import add_local_docs
from serving.errors import error_responses, field_error, request_errors
from serving.memo import score_response_json
from serving.monitor_metrics import attach_monitor_gauges
from serving.pages import attach_pages, warn_of_unknown_owners
from serving.plan_routes import attach_plan
from serving.priority import BatchLane
from serving.recorded import TouchpointFollower, catch_up, read_touchpoints
from serving.schemas import (
    MAX_ACCOUNT_ID,
    AccountScore,
    AsOf,
    ModelOut,
    ModelsResponse,
    Readiness,
    ScoreRequest,
    ScoreResponse,
)
from serving.scoring import RepeatedAccountError, ScoringService
from serving.security import check_keys, key_checker, require_json
from serving.service_settings import ServiceSettings
from serving.snapshots import FeatureStore, SourceChangedError
from serving.warming import AsOfGate, Busy

logger = logging.getLogger(__name__)
INLINE_ACCOUNTS = 20  # requests up to this many accounts are scored on the event loop
STREAM_ACCOUNTS = 200  # a big latest-date response is sent this many accounts at a time
ROUTES = (
    "/v1/score", "/v1/models", "/v1/touchpoints", "/v1/plan", "/healthz", "/readyz", "/metrics",
    "/docs", "/openapi.json",
)  # fmt: skip


async def service_of(request: Request) -> ScoringService:
    """The app's scoring service (a FastAPI dependency)."""
    return request.app.state.service  # type: ignore[no-any-return]


Service = Annotated[ScoringService, Depends(service_of)]


def build_service(settings: ServiceSettings) -> ScoringService:
    """Load champions (registry or cache), the source's latest features and the playbook.

    When the bundle has a `retain-uplift` champion, recommended actions carry its expected
    effects (`serving.effects`); otherwise the playbook alone ranks them. The touchpoints
    features count those recorded through the service (`serving.recorded`).
    """
    from actions.playbook import load_playbook
    from serving.models import ModelStore

    if not settings.data:
        raise RuntimeError("RETAIN_DATA is not set: point it at the source to score")
    playbook = load_playbook(settings.playbook)
    models = ModelStore.open(
        settings.mlflow_uri, settings.model_cache, registry_timeout=settings.registry_timeout
    )
    features = FeatureStore.from_source(
        settings.data,
        cache_size=settings.as_of_cache,
        touchpoints=read_touchpoints(settings.store_url),  # and those recorded since: follower
    )
    return ScoringService(models, features, playbook)


class Metrics:
    """Prometheus metrics of one app instance (own registry, so tests can build many apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "retain_requests", "HTTP requests", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "retain_request_seconds",
            "Request latency",
            ["route"],
            buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.accounts = Counter(
            "retain_accounts_scored", "Accounts scored", ["outcome"], registry=self.registry
        )


class BodyLimitAndMetrics:
    """ASGI middleware: reject bodies over the limit with 413, and time every request."""

    def __init__(self, app: Any, max_body_bytes: int, metrics: Metrics) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        route = "/v1/accounts/{account_id}" if path.startswith("/v1/accounts/") else path
        route = route if route in ROUTES or route.startswith("/v1/accounts/") else "other"
        started = time.perf_counter()
        status = {"code": 500}

        async def send_and_record(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            declared = dict(scope["headers"]).get(b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
                await self._too_large(send_and_record)
                return
            body, more = bytearray(), True
            while more:  # read (at most the limit) up front, then replay to the app
                message = await receive()
                if message["type"] != "http.request":
                    break
                body += message.get("body", b"")
                more = message.get("more_body", False)
                if len(body) > self.max_body_bytes:
                    await self._too_large(send_and_record)
                    return
            replayed = False

            async def replay() -> Any:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": bytes(body), "more_body": False}
                return await receive()

            await self.app(scope, replay, send_and_record)
        finally:
            self.metrics.requests.labels(route, str(status["code"])).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)

    async def _too_large(self, send: Any) -> None:
        response = JSONResponse(
            {"detail": f"request body larger than {self.max_body_bytes} bytes"}, status_code=413
        )
        await response({"type": "http"}, None, send)  # type: ignore[arg-type]


def create_app(settings: ServiceSettings, service: ScoringService | None = None) -> FastAPI:
    """The FastAPI app; pass `service` to serve already-loaded models (tests, benchmarks).

    Raises:
        ValueError: An API key is too short to be safe (`serving.security`).
    """
    keys = settings.api_key_list
    check_keys(keys)
    use_currency(settings.currency)  # the drivers' sentences and the pages' amounts
    metrics = Metrics()
    gate = AsOfGate()  # new as_of dates: computed off the event loop, a few at a time
    batches = AsOfGate(slots=1, name="batch")  # big requests queue on one thread of their own
    lane = BatchLane()  # big latest-date responses: one at a time, after small requests

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "service", None) is None:
            app.state.service = await asyncio.to_thread(build_service, settings)
        users_file = getattr(settings, "users_file", None)
        await asyncio.to_thread(warn_of_unknown_owners, app.state, users_file)
        watcher = asyncio.create_task(app.state.service.models.watch(settings.reload_seconds))
        follower = asyncio.create_task(  # touchpoints other processes record
            app.state.touchpoint_follower.watch(app.state, settings.reload_seconds)
        )
        if not keys:
            logger.warning("RETAIN_API_KEYS is empty: every scoring request will be refused")
        try:
            yield
        finally:
            for task in (watcher, follower):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await asyncio.to_thread(touchpoints.close_store, app)
            gate.close()
            batches.close()

    app = FastAPI(
        title="retain",
        version="1",
        description="Churn and upsell scores, drivers in words and next-best-actions.",
        lifespan=lifespan,
        docs_url=None,  # served from local files below, never from a CDN
        redoc_url=None,
    )
    add_local_docs(app)
    if service is not None:
        app.state.service = service
    app.add_middleware(BodyLimitAndMetrics, max_body_bytes=settings.max_body_bytes, metrics=metrics)

    require_key = key_checker(keys)

    async def run(
        svc: ScoringService, ids: list[str], as_of: datetime | None, where: tuple[str, str]
    ) -> Any:
        """Score `ids` as of `as_of` (sent at `where`, named by a 422 about it)."""
        if len(ids) <= INLINE_ACCOUNTS:
            lane.small_request()
        try:
            await catch_up(app.state, svc)  # touchpoints recorded here since: count them first
            check_as_of(as_of, svc.features.latest.as_of)
            if not svc.is_ready(as_of):  # heavy: off the event loop, one per date, bounded
                await gate.run(as_of, lambda: svc.prepare(as_of))
            if svc.is_memoized(as_of) or (len(ids) <= INLINE_ACCOUNTS and svc.is_ready(as_of)):
                result = svc.score(ids, as_of)  # looked up, or ~1 ms: cheaper than a thread hop
            else:  # big batches queue on their own thread, apart from single accounts
                loop = asyncio.get_running_loop()
                result = await loop.run_in_executor(batches.pool(), svc.score, ids, as_of)
        except RepeatedAccountError as exc:
            raise field_error(("body", "account_ids"), str(exc)) from None
        except (LookupError, ValueError) as exc:  # as_of: after the data, not computable
            raise field_error(where, str(exc)) from None
        except Busy as exc:
            raise HTTPException(503, str(exc), {"Retry-After": str(exc.retry_after)}) from None
        except SourceChangedError as exc:
            raise HTTPException(503, str(exc)) from None
        metrics.accounts.labels("scored").inc(len(result[2]))
        metrics.accounts.labels("unknown").inc(len(result[3]))
        touchpoints.record_scores(app, result, svc.features.horizon)  # sampled, off the path
        return result

    touchpoints.attach_store(app, settings, [Depends(require_key)], metrics.registry)  # touchpoints
    app.state.touchpoint_follower = TouchpointFollower(app.state.store)  # counted in scores
    attach_monitor_gauges(metrics.registry, settings)  # the latest `retain monitor` results
    attach_plan(app, settings, [Depends(require_key)])  # GET /v1/plan
    attach_pages(app, settings)  # the CSM pages at /app (people sign in; no API key)

    app.add_exception_handler(RequestValidationError, request_errors)  # type: ignore[arg-type]

    @app.post(
        "/v1/score",
        response_model=ScoreResponse,
        dependencies=[Depends(require_key), Depends(require_json)],
        responses=error_responses(400, 401, 413, 415, 422, 503),
    )
    async def score(body: ScoreRequest, svc: Service) -> Any:
        """Score up to 1,000 accounts; unknown ids are listed, not an error."""
        snapshot, bundle, scores, unknown = await run(
            svc, body.account_ids, body.as_of, ("body", "as_of")
        )
        parts = None if svc.memo is None else svc.memo.json_of(scores)
        if parts is not None and len(parts) > INLINE_ACCOUNTS:  # latest scores, many of them
            return _stream(parts, snapshot.as_of, bundle.model_version, unknown)
        if parts is not None:  # latest scores: their JSON was made at warm-up, send it as is
            raw = score_response_json(parts, snapshot.as_of, bundle.model_version, unknown)
            return Response(raw, media_type="application/json")
        response = ScoreResponse(
            as_of=snapshot.as_of, model_version=bundle.model_version, scores=scores, unknown=unknown
        )
        if len(scores) <= INLINE_ACCOUNTS:
            return response
        loop = asyncio.get_running_loop()  # serialising many accounts: on the batch thread
        text = await loop.run_in_executor(batches.pool(), response.model_dump_json)
        return Response(text.encode(), media_type="application/json")

    def _stream(
        parts: list[bytes], as_of: datetime, model_version: str, unknown: list[Any]
    ) -> StreamingResponse:
        """Send many stored scores a slice at a time, letting other requests in between.

        A 1,000-account response is ~4 MB: sent in one piece it holds the event loop (and
        every single-account request behind it) while it is copied out; slices of
        `STREAM_ACCOUNTS` let the loop serve waiting requests between them, and the lane
        (`serving.priority`) sends one such response at a time, pausing while single
        accounts are asked for. The bytes and the Content-Length are the same as in one piece.
        """
        shell = score_response_json([], as_of, model_version, unknown)
        head, tail = shell.split(b'"scores":[]', 1)
        head, tail = head + b'"scores":[', b"]" + tail
        length = len(head) + len(tail) + sum(map(len, parts)) + len(parts) - 1

        async def slices() -> AsyncIterator[bytes]:
            async with lane.turn():
                yield head
                for start in range(0, len(parts), STREAM_ACCOUNTS):
                    await lane.step_aside()  # requests that arrived meanwhile go first
                    piece = b",".join(parts[start : start + STREAM_ACCOUNTS])
                    yield b"," + piece if start else piece
                yield tail

        return StreamingResponse(
            slices(), media_type="application/json", headers={"Content-Length": str(length)}
        )

    @app.get(
        "/v1/accounts/{account_id:path}",
        response_model=AccountScore,
        dependencies=[Depends(require_key)],
        responses=error_responses(401, 404, 422, 503),
    )
    async def account(
        account_id: Annotated[str, Path(min_length=1, max_length=MAX_ACCOUNT_ID)],
        svc: Service,
        as_of: Annotated[
            AsOf | None, Query(description="An ISO-8601 date or time; default: the latest data.")
        ] = None,
    ) -> Any:
        """Score one account."""
        _, _, scores, unknown = await run(svc, [account_id], as_of, ("query", "as_of"))
        if unknown:
            raise HTTPException(404, f"account {account_id!r}: {unknown[0].error}")
        parts = None if svc.memo is None else svc.memo.json_of(scores)
        if parts is not None:  # the latest score: its JSON was made at warm-up
            return Response(parts[0], media_type="application/json")
        return scores[0]

    @app.get(
        "/v1/models",
        response_model=ModelsResponse,
        dependencies=[Depends(require_key)],
        responses=error_responses(401),
    )
    def models(svc: Service) -> ModelsResponse:
        """The registered model versions in use."""
        bundle = svc.models.bundle
        return ModelsResponse(
            model_version=bundle.model_version,
            origin=bundle.origin,  # type: ignore[arg-type]
            loaded_at=bundle.loaded_at,
            models=[ModelOut(name=n, version=v) for n, v in sorted(bundle.versions.items())],
            tier_thresholds=risk_tier_cuts(bundle.churn.tier_thresholds),
            missing_models=bundle.missing,
            missing_families=missing_families(bundle.churn),
        )

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
    def readyz(request: Request, response: Response) -> Readiness:
        """Whether models and features are loaded, and whether models came from the cache."""
        svc: ScoringService | None = getattr(request.app.state, "service", None)
        if svc is None:
            response.status_code = 503
            return Readiness(ready=False, status="loading")
        bundle, error = svc.models.bundle, svc.models.registry_error
        champion_error, data_error = svc.models.champion_error, svc.features.data_error
        status = "ok"
        if not keys:
            response.status_code = 503
            status = "not ready: RETAIN_API_KEYS is empty, so every scoring request is refused"
        elif champion_error:
            status = "degraded: the promoted champion did not load; the previous one serves"
        elif data_error:
            status = "degraded: source files changed; only the latest as_of is served"
        elif bundle.origin == "cache":
            status = "degraded: serving cached models, the model registry is unreachable"
        elif error:
            status = "degraded: the model registry is unreachable; models loaded earlier serve"
        elif bundle.uplift_error:
            status = "degraded: the uplift champion did not load; the playbook ranks actions"
        store_error = touchpoints.store_status(request.app)
        if store_error and status == "ok":
            status = "degraded: the store is down: touchpoints get 503, scores are not logged"
        return Readiness(
            ready=bool(keys),
            status=status,
            champion_error=champion_error,
            data_error=data_error,
            model_version=bundle.model_version,
            models_from=bundle.origin,
            registry_error=error,
            uplift_error=bundle.uplift_error,
            store_error=store_error,
            missing_models=bundle.missing,
            as_of=svc.features.latest.as_of,
            accounts=len(svc.features.latest.account_ids),
        )

    @app.get("/metrics", include_in_schema=False)
    def prometheus() -> Response:
        """Prometheus metrics."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
