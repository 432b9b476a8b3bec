"""The FastAPI app: authentication, the reviewer queue, the operator portal and the JSON API."""
