"""The service layer: use cases called alike by the REST API, the CLI and the console."""
