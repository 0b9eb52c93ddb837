"""SQL building blocks for point-in-time features and labels."""
