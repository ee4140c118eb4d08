"""HTTP surfaces for terminals and staff (POS, admin) and operations (health)."""
