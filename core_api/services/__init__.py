"""Domain services of the core API: the ledger, orders, credentials, codes, visibility, the
outbox and trust enforcement. Routers call them; they never import a router."""
