"""govwatch: compliance monitoring of government public accounts."""

__version__ = "0.1.0"
