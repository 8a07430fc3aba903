"""The JSON shape of each resource: what the API returns and what `casefile ... --json` prints.

Presenters take records the services already checked and return plain data; they decide no rule.
"""
