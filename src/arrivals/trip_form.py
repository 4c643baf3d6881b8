"""The trip part of the arrival form (for ``citizens.declaration_forms``): its fields as typed,
the region pickers they are chosen with, their parsing and the arrival's submit."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from khaibao.arrivals import arrivals, trips
from khaibao.citizens.declaration_forms import FormKind
from khaibao.core import clock
from khaibao.regions import region_picker

PASSED_PICKERS = 3
ORIGIN_LEVELS = ("province", "ward", "village")


async def trip_pickers(settings, form: Mapping[str, Any] | None) -> dict[str, Any]:
    """The region pickers of the trip: origin, places passed through, destination. The origin
    and the destination go down to the village or residential group (thôn / tổ dân phố)
    where the ward has them: quarantine policies may target a single village."""
    async def read(name: str, **options: Any):
        if form is None:
            return await region_picker.picker(**options)
        return await region_picker.picker_from_form(form, name, **options)

    origin = {"levels": ORIGIN_LEVELS}
    destination = {"root_code": settings.province_code, "levels": ("ward", "village")}
    return {
        "origin": await read("origin_region", **origin),
        "passed": [await read(f"passed{i}_region") for i in range(PASSED_PICKERS)],
        "destination": await read("destination_region", **destination),
    }


@dataclass(frozen=True)
class TripFields:
    """The trip as typed (stripped); the regions are the pickers' choices (``pickers``, shown
    again with the form)."""

    origin_country: str = "VN"
    origin_detail: str = ""
    departure_date: str = ""
    arrival_at: str = ""
    transport: str = ""
    vehicle_number: str = ""
    checkpoint: str = ""
    destination_detail: str = ""
    purpose: str = ""
    contact_phone: str = ""
    origin_region: str = ""
    passed_regions: tuple[str, ...] = ()
    destination_region: str = ""
    pickers: dict[str, Any] = field(default_factory=dict, compare=False)

    def as_input(self) -> dict[str, Any]:
        """The keys of :func:`trips.parse_trip`."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.name != "pickers"}


async def stored_fields(settings, stored: arrivals.StoredTrip) -> TripFields:
    """The form of an arrival already declared, to correct it: its values and its pickers
    opened on its regions."""
    values = stored.values
    chosen = {"origin_region": values["origin_region"],
              "destination_region": values["destination_region"],
              **{f"passed{i}_region": code
                 for i, code in enumerate(values["passed_regions"][:PASSED_PICKERS])}}
    return TripFields(**{name: values[name] for name in _TYPED},
                      origin_region=values["origin_region"],
                      passed_regions=tuple(values["passed_regions"]),
                      destination_region=values["destination_region"],
                      pickers=await trip_pickers(settings, chosen))


# The fields typed as text (the regions are read through the pickers).
_TYPED = ("origin_country", "origin_detail", "departure_date", "arrival_at", "transport",
          "vehicle_number", "checkpoint", "destination_detail", "purpose", "contact_phone")


def _choice(picker: region_picker.Picker | None) -> str:
    return picker.selected.code if picker and picker.selected else ""


def arrival_form(settings) -> FormKind[TripFields, trips.TripData]:
    """The arrival declaration's form, into the province of ``settings``."""

    async def read(fields: Mapping[str, Any]) -> TripFields:
        pickers = await trip_pickers(settings, fields)
        return TripFields(
            **{name: str(fields.get(name, "")).strip() for name in _TYPED},
            origin_region=_choice(pickers["origin"]),
            passed_regions=tuple(code for p in pickers["passed"] if (code := _choice(p))),
            destination_region=_choice(pickers["destination"]), pickers=pickers)

    def parse(entered: TripFields) -> trips.TripData:
        return trips.parse_trip(entered.as_input(), province_code=settings.province_code,
                                today=clock.today())

    async def submit(account_id: int | None, answers: trips.TripData,
                     **common: Any) -> arrivals.ArrivalSubmission:
        return await arrivals.submit(account_id, trip=answers,
                                     province_code=settings.province_code,
                                     province_name=settings.province_name, **common)

    return FormKind(read, parse, submit)
