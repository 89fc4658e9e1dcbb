"""Revisions: content-addressed manifests, library references, lock files and diffs. Pure (layer 2).

A revision is the sha256 of a canonical manifest of files (path, mode, sha256 and size of the bytes): the
same content gives the same revision on every machine and through every source (docs/sharing.md). This
package knows `model` values and bytes; it never imports `catalog` or a source: `api` reads the files,
fetches libraries into the cache and hands the values here.
"""
