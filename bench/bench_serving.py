"""Scoring API speed: single-account latency at 16 concurrent clients, 1,000-account batch,
single accounts while batches run, against an empty FastAPI endpoint and the same churn
model behind `mlflow models serve` (both measured in the same run).

Targets (issue 16): single-account p99 <= 4x the empty endpoint's p99 at 16 clients; a
1,000-account request <= 300 ms alone; with batch traffic, single-account p99 <= 3x its
solo value.

Uses RETAIN_DATA and the champions at RETAIN_MLFLOW_URI when set up; otherwise simulates
a world and trains champions into a temporary registry first. Not a test: `make bench`.

    .venv/bin/python bench/bench_serving.py [--accounts 1000] [--requests 3200]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

BIN = Path(sys.executable).parent
KEY = "bench-key-0123456789"  # keys need 16+ characters
CLIENTS = 16


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(url)


EMPTY_APP = """
from fastapi import FastAPI, Header
app = FastAPI()

@app.get("/v1/accounts/{account_id}")
async def account(account_id: str, x_api_key: str = Header("")) -> dict[str, str]:
    return {"account_id": account_id}
"""


BATCH_CLIENT = """
import json, sys, time, httpx
url, key, ids = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
with httpx.Client(timeout=60) as client, open(sys.argv[4], "a") as log:
    while True:
        started = time.perf_counter()
        client.post(url + "/v1/score", json={"account_ids": ids}, headers={"X-API-Key": key})
        print(time.perf_counter() - started, file=log, flush=True)  # seconds per batch
"""


def start_empty_endpoint(work: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """An empty FastAPI endpoint under the same uvicorn: the floor of any request."""
    (work / "empty_app.py").write_text(EMPTY_APP)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "empty_app:app", "--port", str(port),
         "--log-level", "warning"], cwd=work, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_for(url + "/v1/accounts/x", process)
    return process, url


def has_champions(uri: str) -> bool:
    from serving.models import champion_versions

    try:
        champion_versions(uri)
        return True
    except Exception:
        return False


def prepare(work: Path, accounts: int) -> tuple[str, str]:
    """The source and registry to serve: from the environment, else built in `work`."""
    data = os.environ.get("RETAIN_DATA") or ("data/demo" if Path("data/demo").exists() else "")
    uri = os.environ.get("RETAIN_MLFLOW_URI", "sqlite:///mlruns/mlflow.db")
    if data and has_champions(uri):
        return data, uri
    data = str(work / "world")
    uri = f"sqlite:///{work}/mlruns/mlflow.db"
    if (work / "world").exists() and has_champions(uri):
        return data, uri
    print(f"Simulating {accounts} accounts and training champions in {work} ...", flush=True)
    subprocess.run([BIN / "retain", "simulate", "--accounts", str(accounts), "--seed", "11",
                    "--out", data], check=True, capture_output=True)  # fmt: skip
    os.environ["RETAIN_MLFLOW_URI"] = uri
    from training.train import train

    train(data, report=lambda line: None, tracking_uri=uri)  # never the checkout's mlruns
    return data, uri


def latencies(url: str, make_request, total: int) -> np.ndarray:
    """Per-request seconds of `total` requests spread over CLIENTS concurrent clients."""

    def worker(n: int) -> list[float]:
        times = []
        with httpx.Client(timeout=30) as client:
            for _ in range(n):
                method, path, kwargs = make_request()
                started = time.perf_counter()
                response = client.request(method, url + path, **kwargs)
                times.append(time.perf_counter() - started)
                response.raise_for_status()
        return times

    per_client = max(1, total // CLIENTS)
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(worker, [per_client] * CLIENTS))
    return np.array([t for r in results for t in r])


def timed(call, repeat: int = 5) -> float:
    """Median seconds of `repeat` calls (after one warm-up)."""
    call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def report(name: str, lat: np.ndarray, batch: float) -> dict[str, float]:
    p50, p99 = np.percentile(lat, 50) * 1000, np.percentile(lat, 99) * 1000
    print(f"{name:<28} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   1,000-account batch {batch:6.3f} s")
    return {"p50": p50, "p99": p99, "batch": batch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1000, help="size of a simulated world")
    parser.add_argument(
        "--requests", type=int, default=3200, help="single-account requests (p99: the 32 slowest)"
    )
    parser.add_argument("--work", type=Path, help="keep the simulated world and models here")
    parser.add_argument("--no-mlflow", action="store_true", help="skip `mlflow models serve`")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="retain-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen] = []
    try:
        data, uri = prepare(work, args.accounts)
        env = {**os.environ, "RETAIN_DATA": data, "RETAIN_MLFLOW_URI": uri, "RETAIN_API_KEYS": KEY,
               "RETAIN_MODEL_CACHE": str(work / "cache"), "MLFLOW_TRACKING_URI": uri,
               "OMP_NUM_THREADS": "1",  # both servers: one OpenMP thread per LightGBM call
               "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}  # fmt: skip
        port = free_port()
        retain = subprocess.Popen([BIN / "retain", "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        processes.append(retain)
        url = f"http://127.0.0.1:{port}"
        wait_for(url + "/readyz", retain)
        from serving.snapshots import FeatureStore

        snapshot = FeatureStore.from_source(data).latest
        ids = list(snapshot.account_ids)
        batch_ids = (ids * (1000 // len(ids) + 1))[:1000]
        headers = {"X-API-Key": KEY}
        print(f"{len(ids)} active accounts as of {snapshot.as_of}; {CLIENTS} clients; 2 cores")

        def one_account():
            return "GET", f"/v1/accounts/{random.choice(ids)}", {"headers": headers}

        empty, empty_url = start_empty_endpoint(work, env)
        processes.append(empty)
        latencies(empty_url, one_account, 160)  # warm-up
        floor = latencies(empty_url, one_account, args.requests)
        floor_p99 = np.percentile(floor, 99) * 1000
        print(f"{'empty FastAPI endpoint':<28} p50 {np.percentile(floor, 50) * 1000:7.1f} ms"
              f"   p99 {floor_p99:7.1f} ms")  # fmt: skip

        latencies(url, one_account, 160)  # warm-up
        lat = latencies(url, one_account, args.requests)

        def score_batch() -> None:
            body = {"account_ids": batch_ids}
            httpx.post(url + "/v1/score", json=body, headers=headers, timeout=60).raise_for_status()

        batch = timed(score_batch)
        ours = report("retain (explained + actions)", lat, batch)

        # Two CRM-like clients posting 1,000-account requests non-stop, in their own
        # processes (in this one they would slow the timing threads, not the server).
        (work / "batch_ids.json").write_text(json.dumps(batch_ids))
        batch_client = [sys.executable, "-c", BATCH_CLIENT, url, KEY, str(work / "batch_ids.json")]
        batch_logs = [work / f"batch-{n}.log" for n in range(2)]
        for log in batch_logs:
            log.unlink(missing_ok=True)
        batchers = [subprocess.Popen([*batch_client, str(log)]) for log in batch_logs]
        processes.extend(batchers)
        try:  # measure once both batch clients are up and have had a first answer
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not all(
                log.exists() and log.read_text().strip() for log in batch_logs
            ):
                time.sleep(0.1)
            earlier = [len(log.read_text().split()) for log in batch_logs]
            mixed_started = time.perf_counter()
            mixed = latencies(url, one_account, args.requests)
            mixed_seconds = time.perf_counter() - mixed_started
        finally:
            for batcher in batchers:
                batcher.terminate()
        mixed_p99 = np.percentile(mixed, 99) * 1000
        print(f"{'retain, 2 batch clients too':<28} p50 {np.percentile(mixed, 50) * 1000:7.1f} ms"
              f"   p99 {mixed_p99:7.1f} ms")  # fmt: skip
        batch_times = [  # the batches sent while single accounts were measured
            float(t)
            for log, n in zip(batch_logs, earlier, strict=True)
            for t in log.read_text().split()[n:]
        ]
        if batch_times:  # what the batch clients got meanwhile: priority is not free
            print(f"{'  the batch clients meanwhile':<28} {len(batch_times)} batches in "
                  f"{mixed_seconds:.1f} s, median {statistics.median(batch_times):.3f} s "
                  "per 1,000-account request")  # fmt: skip

        ratio, mixed_ratio = ours["p99"] / floor_p99, mixed_p99 / ours["p99"]
        print(f"ratios: retain p99 / empty endpoint p99 {ratio:.2f} (target <= 4); "
              f"1,000-account request {ours['batch'] * 1000:.0f} ms (target <= 300); "
              f"p99 with batches / solo {mixed_ratio:.2f} (target <= 3)")  # fmt: skip
        ok = ratio <= 4 and ours["batch"] <= 0.3 and mixed_ratio <= 3
        print(f"targets: {'met' if ok else 'NOT met'}")
        if args.no_mlflow:
            return
        mlflow_port = free_port()
        served = subprocess.Popen(
            [BIN / "mlflow", "models", "serve", "-m", "models:/retain-churn@champion",
             "--env-manager", "local", "-p", str(mlflow_port), "-h", "127.0.0.1"],
            env=env, stdout=subprocess.DEVNULL, stderr=(work / "mlflow-serve.log").open("w"),
        )  # fmt: skip
        processes.append(served)
        murl = f"http://127.0.0.1:{mlflow_port}"
        wait_for(murl + "/ping", served)
        from serving.models import load_from_registry

        columns = list(load_from_registry(uri, work / "cache").churn.feature_names)
        position = [snapshot.column[c] for c in columns]  # type: ignore[attr-defined]

        def rows(indices):
            block = snapshot.matrix[np.ix_(indices, position)]
            data_rows = [[None if np.isnan(v) else float(v) for v in r] for r in block]
            return {"dataframe_split": {"columns": columns, "data": data_rows}}

        def one_row():
            payload = json.dumps(rows([random.randrange(len(ids))]))
            return (
                "POST",
                "/invocations",
                {"content": payload, "headers": {"Content-Type": "application/json"}},
            )

        latencies(murl, one_row, 160)
        mlat = latencies(murl, one_row, args.requests)
        big = json.dumps(rows([i % len(ids) for i in range(1000)]))
        mbatch = timed(lambda: httpx.post(murl + "/invocations", content=big, timeout=60,
                                          headers={"Content-Type": "application/json"})
                       .raise_for_status())  # fmt: skip
        theirs = report("mlflow models serve (proba)", mlat, mbatch)
        print(
            f"ratios retain / mlflow: p50 {ours['p50'] / theirs['p50']:.2f}  "
            f"p99 {ours['p99'] / theirs['p99']:.2f}  batch {ours['batch'] / theirs['batch']:.2f}"
        )
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
