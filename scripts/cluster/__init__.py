"""`make run-cluster` and the deployment files it shares with Docker Compose (docs/production.md)."""
