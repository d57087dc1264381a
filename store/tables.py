"""Typed access to a table model's Core `Table` (for plain Core statements)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table
from sqlmodel import SQLModel


def table_of(model: type[SQLModel]) -> Table:
    """`model.__table__`, typed."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]  # set by SQLModel, undeclared
