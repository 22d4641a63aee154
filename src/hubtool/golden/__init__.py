"""Golden inference: run a card's model on known images in its real runtime and judge every case.

`sets` reads golden sets (hub/golden/<set>/golden.yaml) and caches them per run;
`imaging` turns images into model input exactly; `inference` judges a
`Session`'s outputs; `card` plans and runs a card (fetch, inspect, translate a
legacy file, open the runtime); `rule` checks `golden:` blocks offline for
`hubtool check`; `report` renders verdicts.

May import: `hubtool.runtimes`, `hubtool.legacy`, `hubtool.assets`, `hubtool.cards`
and the floor; never publish or cli.  `rule` and `sets` stay light (no numpy,
no PIL): `hubtool check` imports them.
"""
