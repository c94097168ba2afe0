"""Request and response models of the HTTP API (explicit, with Indonesian examples)."""
