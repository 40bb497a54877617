"""The local stack: the template's API, table and schedule, run in one process without Docker."""
