"""The NOC's rules as plain functions: no Rasa and no database imports here."""
