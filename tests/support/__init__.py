"""Test doubles that speak real protocols on loopback: an S3 endpoint (moto), exchange REST servers."""
