"""Sample data bundled for the demo: the registry of sample accounts."""
