"""The audit log: one hash-chained, append-only entry for every change a person or token makes."""
