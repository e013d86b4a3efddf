"""Venue adapters: each translates one exchange's messages into normalised events and names its sync rule."""
