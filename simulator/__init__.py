"""retain: a simulated SaaS world with known causal structure and ground truth."""
