"""Watching what is deployed: an agent's log lines, its metrics and its alarms' states."""
