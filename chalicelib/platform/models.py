from __future__ import annotations

from chalicelib.core.models import Model


class Health(Model):
    status: str
