"""HTTP routes: ``api`` (JSON, /v1 and /healthz) and ``page`` (the monitors' HTML page)."""
