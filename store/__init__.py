"""Storage: SQLAlchemy models, engine and session factories, query functions, migrations."""
