"""Masking, password hashing and other identity safeguards."""
