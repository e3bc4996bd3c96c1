"""Request and response models. Inputs and outputs are separate classes, so a response can only
carry the fields its class lists (no password hash, token hash or code ever leaks)."""
