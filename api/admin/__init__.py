"""The operator's admin API under ``/admin/v1`` (issue 8, DESIGN §7)."""
