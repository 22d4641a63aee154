"""Assets: every model file a card names, brought into a blob store through one door.

`layout` is the one place that spells blob paths; `blobstore.BlobStore` is the
protocol both backends keep (`store.DirectoryStore`, `s3.blobs.S3BlobStore`);
`fetcher.Fetcher` tries its `Source`s in order (the store, other local stores,
the hub repository, mirrors, the origin) and every byte passes `writer.BlobWriter`:
hashed while streaming, fsynced, compared, renamed.  `urlpolicy` decides where
downloads may go; `inspect` says what a file is from its bytes; `mirror` fetches
many assets at once and writes mirrors.

May import: `hubtool.cards` and the floor.  Never runtimes, legacy, golden,
publish or cli.  It reports to the user only through the `Progress` it is given.
"""
