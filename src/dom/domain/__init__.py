"""The pure core: dataclasses, enums and business rules. Imports only the standard library."""
