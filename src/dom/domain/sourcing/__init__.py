"""Sourcing: choose the nodes, shipments and carrier services for orders under a profile.

- `profiles`: objective weights, constraints, and the rules that choose a profile per order;
- `model`: the order and node offers the engine reads, the plan and explanation it answers;
- `engine`: the real-time engine for one order (exact over the candidate nodes it keeps);
- `search`: the exact search over groupings of lines into shipments;
- `collection`: pickup and curbside lines routed to the store, its shelf against transfers;
- `rates`: freight tables by billable weight, parcels included;
- `validate`: an independent check of any plan against stock, capacity and the rules.
"""
