"""`make screenshots`: each CSM page of a small simulated world, as PNG files.

Usage: python -m tests.browser.screenshots OUT_DIR [--demo]

`--demo` serves the demo world (`data/demo`) with the registered champions instead (after
`make run`); the README's screenshot comes from it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import yaml
from playwright.sync_api import sync_playwright
from pydantic import SecretStr

from serving.app import create_app
from tests.browser.server import chromium_path, serve, sign_in
from tests.support.pages import CHEAP, PASSWORD, SECRET, PagesWorld, build_world
from tests.support.serving import API_KEY


def demo_world(root: Path) -> PagesWorld:
    """The demo data and champions, with a CSM (the largest book) and a manager."""
    from retain.settings import Settings
    from serving.app import build_service

    settings = Settings(
        data="data/demo", store_url=f"sqlite:///{root}/store.db", api_keys=SecretStr(API_KEY),
        users_file=root / "users.yaml", session_secret=SecretStr(SECRET),
    )  # fmt: skip
    service = build_service(settings)
    con = service.features.source.con
    owner = con.execute(
        "SELECT csm_owner FROM accounts GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    hashed = CHEAP.hash(PASSWORD)
    users = [
        {"username": "csm", "name": owner, "role": "csm", "password_hash": hashed},
        {"username": "morgan", "name": "Morgan Reyes", "role": "manager", "password_hash": hashed},
    ]
    (root / "users.yaml").write_text(yaml.safe_dump({"users": users}), encoding="utf-8")
    return PagesWorld(service, settings, Path("data/demo"), "csm", owner, "", "", "morgan", "")


def main(out: Path, demo: bool = False) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as root:
        world = demo_world(Path(root)) if demo else build_world(Path(root), accounts=80, seed=5)
        with (
            serve(create_app(world.settings, world.service)) as base_url,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(executable_path=chromium_path())
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(f"{base_url}/app/login")
            page.screenshot(path=out / "signin.png")
            sign_in(page, base_url, world.manager, PASSWORD)
            page.goto(f"{base_url}/app?risk=high&renewal=90")  # a manager's Monday question
            page.screenshot(path=out / "portfolio-manager.png")
            page.context.clear_cookies()
            sign_in(page, base_url, world.csm, PASSWORD)
            page.screenshot(path=out / "portfolio.png")  # the first screen of the book
            first = page.get_attribute("tr[data-account-id]", "data-account-id")
            page.goto(f"{base_url}/app/accounts/{first}")
            page.screenshot(path=out / "account.png", full_page=True)
            page.goto(f"{base_url}/app/plan")
            page.screenshot(path=out / "plan.png", full_page=True)
            browser.close()
    for png in sorted(out.glob("*.png")):
        print(png)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--demo"]
    main(Path(args[0] if args else "outputs/screenshots"), demo="--demo" in sys.argv[1:])
