"""OGSM (Toolsfactory OGSM tool) connector: importing the package registers it."""

from connectors.ogsm.connector import OgsmConnector

__all__ = ["OgsmConnector"]
