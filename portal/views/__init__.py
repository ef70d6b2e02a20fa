"""Customer-facing pages (one module per page group) and the staff export."""
