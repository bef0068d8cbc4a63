"""The REST API: thin routes over the service layer."""
