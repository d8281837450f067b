"""The dashboard: sign-in, the page, its script, stylesheet and charting library."""
