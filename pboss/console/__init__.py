"""The console for people at /ui: search, trace and impact pictures, the site map, queues and
reports, and GraphiQL, served by pboss itself with the same API keys and roles as the API.

Server-rendered (Jinja2 templates, SVG drawn in Python) and kept thin over the in-process GraphQL
schema (`pboss.console.ask`), so every page sees exactly what the caller's key may see through the
API. No asset comes from a CDN: the stylesheet, the small script and the fonts' fallbacks are
shipped in `static/`, so the console works on an intranet with no internet.
"""
