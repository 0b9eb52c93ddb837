"""retain: point-in-time account features, labels and the data contract."""
