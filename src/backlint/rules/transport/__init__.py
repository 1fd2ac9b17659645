"""Rules about transport models (HTTP request/response schemas) leaking inward."""
