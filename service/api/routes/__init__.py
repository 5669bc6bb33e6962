"""Route modules of the API. Each router carries its full prefix (`/v1/...`), so the route
objects know their whole path template (metrics label requests with it)."""

V1 = "/v1"
