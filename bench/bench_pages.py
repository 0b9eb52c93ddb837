"""CSM pages speed: the portfolio of 500 accounts (a manager's view: every row filtered,
sorted and totalled, one page of `PAGE_ROWS` rendered), server time per request, against a
trivial page of the same app in the same run.

Server time is measured inside the process around the ASGI app (from the request reaching
the app to the last byte of the response), so the HTTP client is not counted. The first
request (scores and monthly history computed once per model and data) is shown apart.
Not a test: `make bench`.

    .venv/bin/python bench/bench_pages.py [--accounts 500] [--requests 60]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the shared test builders (a small model on random accounts)

from fastapi.testclient import TestClient  # noqa: E402

from serving.app import create_app  # noqa: E402
from serving.pages.portfolio import PAGE_ROWS  # noqa: E402
from tests.support.pages import CHEAP, PASSWORD, SECRET  # noqa: E402
from tests.support.serving import make_service, test_settings  # noqa: E402

BUDGET_MS = 300.0


class ServerTime:
    """ASGI wrapper recording each HTTP request's time inside the app."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last = 0.0
        self.last_cpu = 0.0
        self.cpu: dict[str, list[float]] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started, cpu = time.perf_counter(), time.process_time()
        await self.app(scope, receive, send)
        if scope["type"] == "http":
            self.last = time.perf_counter() - started
            self.last_cpu = time.process_time() - cpu


def timed(client: TestClient, timer: ServerTime, path: str, n: int) -> list[float]:
    """Wall-clock server times (ms); CPU times go to `timer.cpu[path]`."""
    times, cpu = [], timer.cpu.setdefault(path, [])
    for _ in range(n):
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
        times.append(timer.last * 1000)
        cpu.append(timer.last_cpu * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp())
    users = root / "users.yaml"
    users.write_text(
        yaml.safe_dump(
            {
                "users": [
                    {
                        "username": "morgan",
                        "name": "Morgan",
                        "role": "manager",
                        "password_hash": CHEAP.hash(PASSWORD),
                    }
                ]
            }  # fmt: skip
        )
    )
    service = make_service(n=args.accounts)
    settings = test_settings(
        store_url=f"sqlite:///{root}/store.db", users_file=users, session_secret=SECRET
    )
    timer = ServerTime(create_app(settings, service))
    with TestClient(timer) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/app/login").text)
        client.post(
            "/app/login",
            data={"username": "morgan", "password": PASSWORD, "csrf_token": token.group(1)},
        )
        first = timed(client, timer, "/app", 1)[0]
        rows = client.get("/app").text.count("<tr data-account-id=")
        assert rows == min(args.accounts, PAGE_ROWS), rows
        for _ in range(5):  # warm both paths
            client.get("/app")
            client.get("/healthz")
        portfolio = timed(client, timer, "/app", args.requests)
        trivial = timed(client, timer, "/healthz", args.requests)
        signin = timed(client, timer, "/app/login", args.requests)

    def p(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[int(q) - 1]

    load = os.getloadavg()[0]
    print(f"portfolio of {args.accounts} accounts ({rows} rows a page), {args.requests} requests"
          f" each, server time (load average {load:.1f} on {os.cpu_count()} cores):")  # fmt: skip
    print(f"  first request (all scores, once per model and data): {first:.0f} ms")
    for name, values in (("portfolio", portfolio), ("sign-in page", signin), ("/healthz", trivial)):
        print(f"  {name:<13} p50 {p(values, 50):7.1f} ms  p95 {p(values, 95):7.1f} ms")
    cpu = timer.cpu["/app"][1:]
    print(f"  portfolio CPU time p50 {p(cpu, 50):.1f} ms, p95 {p(cpu, 95):.1f} ms")
    print(
        f"  portfolio / trivial page: {p(portfolio, 50) / p(trivial, 50):.0f}x at p50; "
        f"portfolio / sign-in page (a template, no data): {p(portfolio, 50) / p(signin, 50):.0f}x"
    )
    for name, value in (("wall p50", p(portfolio, 50)), ("wall p95", p(portfolio, 95)),
                        ("CPU p95", p(cpu, 95))):  # fmt: skip
        verdict = "within" if value < BUDGET_MS else "OVER"
        print(f"  {name} {value:.0f} ms: {verdict} the {BUDGET_MS:.0f} ms budget")


if __name__ == "__main__":
    main()
