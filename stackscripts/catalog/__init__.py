"""Scripts and libraries: parsing, writing, linting, scaffolding. Pure, no network."""
