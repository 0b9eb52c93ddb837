"""Next-best-action: per-action effects on churn learned from the CS team's history.

The public entry points: `fit_uplift` (learn from a training set and touchpoints),
`UpliftModel` (the registered pyfunc; `effects(X)` per action), `load_uplift_config`, and
`run_uplift` (the step `retain train` runs: fit, judge on the simulator's truth, log,
register). Modules: `config` (settings, `uplift.yaml`), `data` (touchpoints and treatment
windows), `pooled` and `model` (the learners), `symptoms` (playbook symptoms per action),
`policy_eval` (value against the simulator's true effects), `run` (the training step),
`protocol` (tuning and untouched simulated worlds of other causal structures),
`offpolicy` and `offpolicy_run` (`retain evaluate-policy`: doubly robust value from history).
"""

from training.uplift.config import UpliftConfig, load_uplift_config
from training.uplift.model import ActionEffect, UpliftModel, fit_uplift
from training.uplift.run import UpliftRun, run_uplift

__all__ = [
    "ActionEffect",
    "UpliftConfig",
    "UpliftModel",
    "UpliftRun",
    "fit_uplift",
    "load_uplift_config",
    "run_uplift",
]
