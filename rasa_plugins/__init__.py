"""Custom components of the Rasa server's NLU pipeline (named in config.yml)."""
