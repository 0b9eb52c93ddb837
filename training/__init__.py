"""retain: training sets, models, evaluation, MLflow tracking and registry, uplift."""
