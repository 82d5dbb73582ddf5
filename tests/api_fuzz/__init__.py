"""API fuzzing with Schemathesis: `make api-fuzz` runs run.py."""
