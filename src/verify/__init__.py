"""verify: an event-sourced verification workflow for allegations of civilian harm.

The code is in layers, each a package; dependencies point inward only.

- ``domain``: the rules and facts, pure (no I/O, no clock, no SQL): values,
  the workflow, the rulebook, separation of duties, the Incident, PartyRegister
  and StrikeReport aggregates, the hash-chain arithmetic, dates and counts as
  people write them, the gazetteer and strike matching.
- ``application``: the use cases. ``VerifyApp`` turns commands into events and
  answers queries with plain documents; beside it the read-model projection,
  the history, the intake and import of archive rows, auditing and re-grading,
  strike reports, and the one place that words outcomes for every edge.
- ``adapters``: what touches the outside: persistence for SQLite and
  PostgreSQL (events with their hash chain, the read model), the transcoder,
  the parallel import writer, interchange files (JSON Lines, CSV, GeoJSON,
  spreadsheets), strike report and gazetteer files, the team file, charts.
- ``entrypoints``: the command line (``cli``) and the browser (``web``).
- ``demo``: the guided tour and synthetic archives for benchmarks.

See docs/architecture.md.
"""
