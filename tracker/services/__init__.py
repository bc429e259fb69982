"""Write services, one module per concept. Each function takes the session as a keyword,
validates, writes, and leaves auditing to tracker.audit (same transaction)."""
