"""The S3-API backend (AWS S3, Ceph RGW, MinIO, R2, OBS...): blobs and create-only refs.

Same contract as the directory store (../shared/OBJECT-STORE.md section 5).
botocore's exceptions never leave this package: `client.translated` turns them
into `StoreError`s with the operation named.
"""
