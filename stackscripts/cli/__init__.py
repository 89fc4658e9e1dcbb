"""The command line: thin wrappers over stackscripts.api. The only importer of click and rich."""
