"""Lessons for both pages: the schema and the shipped files (``lesson``), and the routes
that list and serve them (``routes``)."""
