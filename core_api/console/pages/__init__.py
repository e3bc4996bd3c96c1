"""The console's routes, one module per page (FastAPI calls them by keyword, as routers)."""
