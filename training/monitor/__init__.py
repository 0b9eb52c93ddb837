"""Know when the models go stale.

Drift against the training reference, scores against the renewals that happened since,
thresholds from `monitor.yaml`.

- `bins.py`: quantile bins with a missing bin; PSI and Jensen-Shannon.
- `reference.py`: `TrainingReference`, kept with the registered churn model at training.
- `drift.py`: per-feature and score drift, tier mix. `calibration.py`: matured outcomes.
- `alarms.py` + `thresholds.py` (`monitor.yaml`): when to raise an alarm, in words.
- `tracking.py`: whether the drift reads as a change in how events are logged.
- `report.py`: `MonitorReport`. `run.py`: `run_monitor`, the `retain monitor` command's work.
- `retrain_report.py`: the one-page report of `make retrain`.
"""

from pathlib import Path

DEFAULT_RESULTS = Path("var/monitor/latest.json")
"""Where `retain monitor` writes its latest results for `/metrics` (`RETAIN_MONITOR_RESULTS`)."""
