"""Sources of libraries (layer 3): a folder, git; S3 and OCI to come. See `base.py` for the contract.

Each third-party library is imported by its one source module; everything above the sources sees digests
and the read-only folders of the local content-addressed cache (`cache.py`).
"""
