"""Units of length and weight; dom normalizes to inches and pounds, as US parcel rates do."""

from __future__ import annotations

from enum import StrEnum

from dom.domain.errors import InvalidField


class LengthUnit(StrEnum):
    INCH = "in"
    FOOT = "ft"
    CENTIMETRE = "cm"
    MILLIMETRE = "mm"
    METRE = "m"


class WeightUnit(StrEnum):
    POUND = "lb"
    OUNCE = "oz"
    KILOGRAM = "kg"
    GRAM = "g"


_INCHES_PER = {
    LengthUnit.INCH: 1.0,
    LengthUnit.FOOT: 12.0,
    LengthUnit.CENTIMETRE: 1 / 2.54,
    LengthUnit.MILLIMETRE: 1 / 25.4,
    LengthUnit.METRE: 100 / 2.54,
}
_POUNDS_PER = {
    WeightUnit.POUND: 1.0,
    WeightUnit.OUNCE: 1 / 16,
    WeightUnit.KILOGRAM: 1 / 0.45359237,
    WeightUnit.GRAM: 1 / 453.59237,
}


def parse_length_unit(text: str, field: str = "dimension_unit") -> LengthUnit:
    try:
        return LengthUnit(text.strip().lower())
    except ValueError:
        allowed = ", ".join(u.value for u in LengthUnit)
        raise InvalidField(field, f"unknown unit {text!r}; use one of {allowed}") from None


def parse_weight_unit(text: str, field: str = "weight_unit") -> WeightUnit:
    try:
        return WeightUnit(text.strip().lower())
    except ValueError:
        allowed = ", ".join(u.value for u in WeightUnit)
        raise InvalidField(field, f"unknown unit {text!r}; use one of {allowed}") from None


def to_inches(value: float, unit: LengthUnit) -> float:
    return round(value * _INCHES_PER[unit], 4)


def to_pounds(value: float, unit: WeightUnit) -> float:
    return round(value * _POUNDS_PER[unit], 4)
