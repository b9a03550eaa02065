"""One module of page routes per area, like `api/routers`."""
