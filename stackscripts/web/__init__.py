"""The web dashboard: a thin ASGI face over stackscripts.api, beside the CLI (docs/dashboard.md).

`app` (Starlette, the only importer of it) routes pages and /api/v1; `serve` (uvicorn, the only importer of it)
runs it. The rest is framework-free: `pages` and `jsonapi` build what each route answers, `outview` reads a step's
output a page at a time, `live` fans one follower of a running run out to every viewer, `actions` starts boots,
resumes, operational runs and terminations, `render` fills the jinja2 templates shipped in `templates/`.
"""
