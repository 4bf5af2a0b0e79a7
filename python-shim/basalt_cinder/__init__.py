"""Basalt's Cinder volume driver: a thin client of the Basalt volume API."""
