"""Write notebooks/01-walkthrough.ipynb from the cells below.

Run: `python notebooks/make_walkthrough.py`.

The notebook is generated so that its source reviews as plain Python; `make test`
executes it (nbmake) on a small simulated world in a temporary folder.
"""

from pathlib import Path

import nbformat as nbf

CELLS: list[tuple[str, str]] = [
    (
        "md",
        """# retain: a walkthrough

From the tables a SaaS company already has to a churn score, an explanation a CSM
can read, and a recommended action. We use a small simulated world (the simulator
writes the same tables a real company would, following `docs/data-contract.md`)
and keep everything in a temporary folder, MLflow store included.""",
    ),
    (
        "code",
        """import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from simulator.world import simulate_to_dir

work = Path(tempfile.mkdtemp(prefix="retain-walkthrough-"))
data = work / "world"
simulate_to_dir(data, n_accounts=600, seed=11, months=24, fmt="parquet", progress=False)
sorted(p.name for p in data.iterdir())""",
    ),
    (
        "md",
        """## 1. The data, checked against the contract
`validate` names every problem by table, column, row count and example rows. The
simulated world follows the contract, so it reports none.""",
    ),
    (
        "code",
        """from features.source import load_source, open_source
from features.validate import validate_source

with open_source(str(data)) as source:
    problems = validate_source(source)
print(f"{len(problems)} problems")
source = load_source(str(data))
con = source.con
terms = "SELECT kind, outcome, count(*) AS terms FROM subscriptions GROUP BY ALL ORDER BY ALL"
con.execute(terms).df()""",
    ),
    (
        "md",
        """## 2. Point-in-time features
Each feature is computed for every active account *as of* a date, seeing nothing dated
after it. The definitions (family, description, unit, healthy direction) live in
`features/definitions/`.""",
    ),
    (
        "code",
        """from features.compute import compute_features
from features.definitions import FEATURES

catalogue = pd.DataFrame(
    [(f.name, f.family, f.description, f.unit, f.healthy) for f in FEATURES],
    columns=["feature", "family", "description", "unit", "healthy"],
)
print(catalogue.groupby("family").size().to_string())
snapshot = compute_features(con, "2025-03-01")
snapshot.head()""",
    ),
    (
        "md",
        """## 3. Signals against outcomes
A training set holds monthly snapshots with their churn and upsell labels (known
only once the renewal or the 180-day window has passed). Churn is clearly higher
where key users went quiet and where the customer misses its own business goal.""",
    ),
    (
        "code",
        """from features.dataset import build_dataset

dataset = build_dataset(con, "2024-04-01", "2025-12-01", every="1M")
churn = dataset[dataset["churn"].notna()]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for ax, name in zip(axes, ["days_since_key_user_active", "kpi_attainment_latest"]):
    bands = pd.qcut(churn[name], 5, duplicates="drop")
    churn.groupby(bands, observed=True)["churn"].mean().plot.bar(ax=ax, rot=30)
    ax.set_title(name)
    ax.set_ylabel("churn rate")
fig.tight_layout()
print(f"{len(dataset)} snapshots, churn rate {churn['churn'].mean():.3f}")""",
    ),
    (
        "md",
        """## 4. Train, evaluate on a later period, register
`retain train` does this: a time split (train on earlier snapshots, calibrate and test
on the latest periods), LightGBM with a bounded search, two baselines (logistic
regression and a hand-made health score) on the same test period, the simulator's
true probabilities for comparison, MLflow tracking and the registry's promotion gate.""",
    ),
    (
        "code",
        """import os

from training.train import summary_lines, train

os.environ["RETAIN_MLFLOW_URI"] = f"sqlite:///{work}/mlflow.db"
os.environ["RETAIN_MODEL_CACHE"] = str(work / "serving-cache")
result = train(str(data), tracking_uri=os.environ["RETAIN_MLFLOW_URI"], report=lambda line: None)
print("\\n".join(summary_lines(result)))""",
    ),
    (
        "code",
        """from sklearn.calibration import calibration_curve

churn_result = result.targets["churn"]
test = churn_result.split.test
probability = churn_result.test_probability["model"]
observed, predicted = calibration_curve(test["churn"], probability, n_bins=8, strategy="quantile")
plt.figure(figsize=(4, 4))
plt.plot([0, 1], [0, 1], "k:", label="perfect")
plt.plot(predicted, observed, "o-", label="retain churn model")
plt.xlabel("predicted churn probability")
plt.ylabel("observed churn rate")
plt.legend()
plt.title("Calibration on the test period");""",
    ),
    (
        "md",
        """## 5. Explanations and actions for a CSM
The champion scores every active account; each score carries its drivers in words
(SHAP contributions against what healthy accounts look like) and the playbook's
ranked actions.""",
    ),
    (
        "code",
        """from retain.settings import get_settings
from serving.batch import run_batch

get_settings.cache_clear()
scores_file = work / "scores.parquet"
run_batch(str(data), scores_file, None, get_settings(), progress=False)
scores = pd.read_parquet(scores_file)
scores.sort_values("churn_probability", ascending=False)[
    ["account_id", "churn_probability", "upsell_probability", "next_best_action"]
].head()""",
    ),
    (
        "code",
        """import json

riskiest = scores.sort_values("churn_probability", ascending=False).iloc[0]
print(f"{riskiest['account_id']}: churn {riskiest['churn_probability']:.0%}")
drivers = riskiest["drivers"]
drivers = json.loads(drivers) if isinstance(drivers, str) else drivers
for item in drivers:
    print(" -", item["sentence"])
actions = riskiest["actions"]
actions = json.loads(actions) if isinstance(actions, str) else actions
for item in actions:
    print(" *", item["action"], ":", item["reason"])""",
    ),
    (
        "md",
        """## Where next
`make train` does section 4 on the demo world and prints the comparison; `make serve`
serves the same scores over HTTP; `make mlflow-ui` shows the runs, plots and registry.""",
    ),
]


def build() -> nbf.NotebookNode:
    notebook = nbf.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for kind, text in CELLS:
        cell = nbf.v4.new_markdown_cell(text) if kind == "md" else nbf.v4.new_code_cell(text)
        notebook.cells.append(cell)
    return notebook


if __name__ == "__main__":
    target = Path(__file__).with_name("01-walkthrough.ipynb")
    nbf.write(build(), target)
    print(f"wrote {target}")
