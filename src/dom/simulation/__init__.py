"""The simulator: replay a scenario's order stream under sourcing profiles and baselines and
compare them side by side (issue #4).

- `model`: a scenario as plain data — network, stock, daily capacity, orders with arrival times;
- `scenario`: scenario files (format version 1, `scenario.schema.json`): read, check, write;
- `schema_check`, `positions`: the JSON Schema check and the line numbers of its problems;
- `generator`: scenarios in the style of the research instances, on real US geography;
- `replay`: the order stream under one policy, against one stock ledger;
- `metrics`, `report`, `charts`: what a replay shows, as a table, JSON or SVG charts;
- `policies`: policies by name (shipped profiles, profile files, the baselines).
"""
