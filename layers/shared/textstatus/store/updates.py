"""An UpdateItem under construction, for the status item."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textstatus.clock import iso
from textstatus.store.encoding import Item, Key, to_attr

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef


class Update:
    """SET for values, REMOVE for None; with `changed_by`, a status change: its version, its
    creation time if new, the event that made it added to the item's `changedBy` set and, when
    the new status is final, `finalAt` (when the event that made it was received: `final_at`),
    all in the same conditional request. A later report of the same status (no `changed_by`)
    leaves `finalAt` as it is."""

    def __init__(self, key: Key, now: datetime) -> None:
        self.key = key
        self.now = now
        self.sets: list[str] = []
        self.removes: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, AttributeValueTypeDef] = {}
        self.attributes: dict[str, Any] = {}
        self.changed_by: str | None = None
        self.final_at: datetime | None = None

    def set(self, name: str, value: Any) -> None:
        index = len(self.names)
        self.names[f"#f{index}"] = name
        self.attributes[name] = value
        if value is None:
            self.removes.append(f"#f{index}")
        else:
            self.values[f":f{index}"] = to_attr(value)
            self.sets.append(f"#f{index} = :f{index}")

    def set_all(self, attributes: Mapping[str, Any]) -> None:
        for name, value in attributes.items():
            self.set(name, value)

    def set_if_absent(self, name: str, value: Any) -> None:
        """SET unless the item has the attribute already (a new item gets it)."""
        self.attributes[name] = value
        self.sets.append(f"#{name} = if_not_exists(#{name}, :{name})")
        self.names[f"#{name}"] = name
        self.values[f":{name}"] = to_attr(value)

    def created_item(self) -> Item:
        """The item this update writes when it creates the status item (nothing was there)."""
        item = {name: value for name, value in self.attributes.items() if value is not None}
        item.update(createdAt=iso(self.now), version=1)
        if self.changed_by is not None:
            item["changedBy"] = {self.changed_by}
            if self.final_at is not None:
                item["finalAt"] = iso(self.final_at)
        return item

    def params(
        self,
        table: str,
        *,
        condition: str | None = None,
        condition_values: Mapping[str, AttributeValueTypeDef] | None = None,
        return_values: str = "NONE",
    ) -> dict[str, Any]:
        sets = list(self.sets)
        values = dict(self.values)
        if self.changed_by is not None:
            sets += ["createdAt = if_not_exists(createdAt, :now)", "version = if_not_exists(version, :zero) + :one"]
            values.update({":now": to_attr(iso(self.now)), ":zero": to_attr(0), ":one": to_attr(1)})
            if self.final_at is not None:
                sets.append("finalAt = :finalAt")
                values[":finalAt"] = to_attr(iso(self.final_at))
        expression = "SET " + ", ".join(sets)
        if self.removes:
            expression += " REMOVE " + ", ".join(self.removes)
        if self.changed_by is not None:
            expression += " ADD changedBy :changedBy"
            values[":changedBy"] = {"SS": [self.changed_by]}
        params: dict[str, Any] = {
            "TableName": table,
            "Key": self.key,
            "UpdateExpression": expression,
            "ExpressionAttributeNames": self.names,
            "ExpressionAttributeValues": {**values, **(condition_values or {})},
            "ReturnValues": return_values,
        }
        if condition:
            params["ConditionExpression"] = condition
        return params
