"""HTTP routers, one module per role; ``core_api.app`` mounts them."""
