"""Response and request models of the API: the shapes the OpenAPI document promises and the console reads."""
