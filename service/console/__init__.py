"""The admin console: server-rendered pages at ``/console`` over the same functions as the API."""
