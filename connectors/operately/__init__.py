"""Operately connector (external API ``/api/external/v1``, profiles 2026-03 and 2026-08)."""

from connectors.registry import register

from .connector import OperatelyConnector

register(OperatelyConnector)

__all__ = ["OperatelyConnector"]
