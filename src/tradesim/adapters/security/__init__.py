"""Password hashing (argon2-cffi) and token signing (PyJWT)."""
