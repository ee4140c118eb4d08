"""The composition root: configuration, wiring, the web app, the command line, demo data."""
