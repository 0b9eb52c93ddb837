"""retain: scoring API, explanations, playbook and next-best-action; the `retain` CLI."""
