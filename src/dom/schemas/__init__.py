"""Edge formats: the records dom accepts and returns in JSON, CSV and the API, validated by pydantic."""
