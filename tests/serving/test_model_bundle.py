"""The model bundle: an uplift model that does not load, and models pickled by an older retain."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import mlflow.pyfunc
import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.models import (
    CHURN_MODEL,
    UPLIFT_MODEL,
    UPSELL_MODEL,
    OutdatedModelError,
    _bundle,
    _unwrap,
)
from tests.support.serving import make_model, make_service, test_settings

OLD_MODULE = "retain_layout_of_last_year"


def _saved_with_a_module_that_is_gone(tmp_path: Path) -> Path:
    """A pyfunc whose pickle names a module that no longer exists (as after a move)."""
    package = tmp_path / "old_code"
    package.mkdir()
    (package / f"{OLD_MODULE}.py").write_text(
        "from mlflow.pyfunc import PythonModel\n\n"
        "class OldUplift(PythonModel):\n"
        "    def predict(self, context, model_input, params=None):\n"
        "        return model_input\n"
    )
    sys.path.insert(0, str(package))
    try:
        module = importlib.import_module(OLD_MODULE)
        target = tmp_path / "old_model"
        mlflow.pyfunc.save_model(str(target), python_model=module.OldUplift())
    finally:
        sys.path.remove(str(package))
        sys.modules.pop(OLD_MODULE, None)
    return target


def _saved_account_model(tmp_path: Path, target: str) -> Path:
    folder = tmp_path / target
    mlflow.pyfunc.save_model(str(folder), python_model=make_model(target))
    return folder


def test_a_model_from_an_older_layout_says_to_retrain(tmp_path):
    folder = _saved_with_a_module_that_is_gone(tmp_path)
    with pytest.raises(OutdatedModelError, match=r"retain-churn v4 .* retrain with `retain train`"):
        _unwrap(folder, "retain-churn", "4")


def test_an_uplift_model_that_does_not_load_leaves_the_playbook_and_shows_in_readyz(tmp_path):
    folders = {
        CHURN_MODEL: _saved_account_model(tmp_path, "churn"),
        UPSELL_MODEL: _saved_account_model(tmp_path, "upsell"),
        UPLIFT_MODEL: _saved_with_a_module_that_is_gone(tmp_path),
    }
    versions = {CHURN_MODEL: "2", UPSELL_MODEL: "2", UPLIFT_MODEL: "5"}
    bundle = _bundle(folders, versions, "registry")
    assert bundle.uplift is None and bundle.effects is None
    assert "retrain" in (bundle.uplift_error or "")
    assert "retain-uplift" not in bundle.model_version  # only what serves is named
    assert bundle.failed == {UPLIFT_MODEL: "5"}
    service = make_service(n=10, bundle=bundle)
    with TestClient(create_app(test_settings(), service)) as client:
        ready = client.get("/readyz").json()
    assert ready["status"].startswith("degraded") and "uplift" in ready["status"]
    assert "retrain" in ready["uplift_error"]
