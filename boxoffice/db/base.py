"""Declarative base with the project's type map and constraint naming convention."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import JSON, MetaData, Table
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeEngine

from boxoffice.db.types import Money, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, TypeEngine[Any]]] = {
        Decimal: Money(),
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }

    if TYPE_CHECKING:
        # Every model maps one plain Table (none maps a join or a select), which Core statements use.
        __table__: ClassVar[Table]
