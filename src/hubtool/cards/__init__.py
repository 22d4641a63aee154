"""Cards: a card file -> front matter -> positioned YAML -> `Card` -> diagnostics (`hubtool check`).

This is the pre-commit path: offline and light.  It may import only the floor
(errors, diagnostics, config, durable, yamlsource, yamlfile, schema, progress);
never assets, runtimes, legacy, golden, publish or cli, and no network, numeric,
image or terminal library (requests, numpy, PIL, boto3, rich).  A rule that
needs a higher part (do the hub's golden sets exist?) is contributed by that
part through the protocol this one owns, `rules.CardRule` (hubtool.golden.rule),
and handed to `validate.CardChecker` by whoever builds it (the CLI, publish).
"""
