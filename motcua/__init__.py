"""Một cửa: the electronic one-stop shop for Vietnamese administrative procedures."""
