"""North (thenorth.io): org, team tree, memberships, goals, key results, initiatives, events."""

from connectors.north.connector import NorthConnector
from connectors.registry import register

register(NorthConnector)

__all__ = ["NorthConnector"]
