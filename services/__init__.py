"""dialognet services: registration (now), notification and reporting (later), and their runtime."""
