"""HTTP routes, one module per area. Each handler: validate, call one service, shape the response."""
