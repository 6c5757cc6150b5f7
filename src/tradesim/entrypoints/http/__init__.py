"""The HTTP and WebSocket api (Quart on hypercorn): `create_app(container)` in `app.py`."""
