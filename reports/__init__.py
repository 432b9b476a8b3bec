"""Monthly scoring (versioned rules), report data and renderers (HTML, XLSX, PDF, charts)."""
