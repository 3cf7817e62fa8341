"""The monthly channel-efficiency report and customer-value white paper (self-contained HTML)."""
