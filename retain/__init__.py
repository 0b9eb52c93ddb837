"""The top layer: the `retain` command line and the settings every command reads."""
