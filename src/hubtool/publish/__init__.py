"""Publishing: gate every card on check, fetch, inspect and golden; write the hub atomically.

`runs` holds the per-card records (`CardRun`, `Step`); `steps` runs the four
steps with the `ledger` (SQLite) remembering every pass; `pipeline` orders
them and gates each card; `index` turns published runs into the index and card
documents; `target` is the `PublishTarget` protocol its two backends keep
(`directory`: generations behind a symlink, `s3`: create-only generation refs);
`report` renders a run.

May import every part below it (golden, runtimes, legacy, assets, cards, the
floor); never cli.
"""
