"""Quarantine policies (chính sách cách ly) and the decision for an arriving person.

A policy says "people who were in region R in the last days must do measure M" for a time
window. Policies are versioned: an edit (or an end) adds a new row with the same
``policy_key`` and stamps the previous version ``superseded_at``; history is never rewritten.

What a person must do given where they were is decided in ``decisions.py``.

Severity, least → most: none < self_monitor < test < custom < home < centralised.
``custom`` (free text) sits above "test on arrival" and below any isolation: an admin writes
a custom measure for something beyond a test (test + limits on movement, say), but a measure
whose content the engine cannot read must never override a defined isolation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from khaibao.core import clock, db
from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.core.errors import FormErrors
from khaibao.core.i18n import catalog
from khaibao.policies.policy_input import (
    CUSTOM,
    DAYS_REQUIRED,
    MEASURE_LABELS,
    MEASURES,
    MEASURES_EN,
    RANK,
    SEVERITY,
    PolicyInput,
    error,
    parse_policy,
)
from khaibao.tables import Policy, Region


class PolicyNotFound(LookupError):
    """No policy with this key."""


# --- views -------------------------------------------------------------------------------------

def _translate(message: str, lang: str) -> str:
    translated = catalog(lang).get(message) if lang in ("vi", "en") else None
    if isinstance(translated, tuple):
        translated = translated[0]
    if not translated and lang == "en":
        english = {label: MEASURES_EN[key] for key, label in MEASURES}
        translated = english.get(message)
    return translated or message


def describe_measure(measure: str, days: int | None, custom_text: str = "",
                     lang: str = "vi") -> str:
    """"Cách ly tập trung 14 ngày" — a measure as a sentence in ``lang``."""
    if measure == CUSTOM:
        if days:
            suffix = f" ({days} days)" if lang == "en" else f" ({days} ngày)"
            return custom_text + suffix
        return custom_text
    text = _translate(MEASURE_LABELS[measure], lang)
    return text % {"days": days or 0} if "%(days)" in text else text


def local_text(value: datetime) -> str:
    return value.astimezone(LOCAL_TIMEZONE).strftime("%H:%M %d/%m/%Y")


def as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("an aware datetime is required")
    return value.astimezone(UTC)


def as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def required_datetime(value: Any) -> datetime:
    """:func:`as_datetime` of a NOT NULL column."""
    moment = as_datetime(value)
    assert moment is not None, "a NOT NULL moment read as null"
    return moment


@dataclass(frozen=True)
class PolicyView:
    id: int
    policy_key: int
    version: int
    target_code: str
    target_path: str
    target_label: str
    target_depth: int
    measure: str
    days: int | None
    custom_text: str
    effective_from: datetime
    effective_to: datetime | None
    legal_reference: str
    created_by: int | None
    created_at: datetime
    superseded_at: datetime | None

    @property
    def severity(self) -> int:
        return RANK[self.measure]

    def describe(self, lang: str = "vi") -> str:
        return describe_measure(self.measure, self.days, self.custom_text, lang)

    def in_force(self, at: datetime) -> bool:
        return self.effective_from <= at and (self.effective_to is None or at < self.effective_to)


_POLICY_COLUMNS = (Policy.id, Policy.policy_key, Policy.version, Policy.target_path,
                   Policy.measure, Policy.days, Policy.custom_text, Policy.effective_from,
                   Policy.effective_to, Policy.legal_reference, Policy.created_by,
                   Policy.created_at, Policy.superseded_at)


def ancestor_paths(path: str) -> list[str]:
    """"/VN/VN-46/VN-46-19900/" → ["/VN/", "/VN/VN-46/", "/VN/VN-46/VN-46-19900/"]."""
    parts = [part for part in path.split("/") if part]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


async def _labels(paths: set[str]) -> dict[str, str]:
    """"Phường Thuận An, Thành phố Huế" for each region path, from one indexed query."""
    prefixes = sorted({p for path in paths for p in ancestor_paths(path)})
    if not prefixes:
        return {}
    rows = await Region.select(Region.path, Region.name, Region.kind).where(
        Region.path.is_in(prefixes))
    names = {row["path"]: row["name"] for row in rows}
    countries = {row["path"] for row in rows if row["kind"] == "country"}
    labels = {}
    for path in paths:
        chain = ancestor_paths(path)
        named = [names[p] for p in reversed(chain) if p in names and p not in countries]
        labels[path] = ", ".join(named) or names.get(path, path)
    return labels


def _view(row: Mapping[str, Any], labels: Mapping[str, str]) -> PolicyView:
    path = row["target_path"]
    codes = [part for part in path.split("/") if part]
    return PolicyView(
        id=row["id"], policy_key=row["policy_key"], version=row["version"],
        target_code=codes[-1] if codes else "", target_path=path,
        target_label=labels.get(path, path), target_depth=max(len(codes) - 1, 0),
        measure=row["measure"], days=row["days"], custom_text=row["custom_text"] or "",
        effective_from=required_datetime(row["effective_from"]),
        effective_to=as_datetime(row["effective_to"]),
        legal_reference=row["legal_reference"] or "", created_by=row["created_by"],
        created_at=required_datetime(row["created_at"]),
        superseded_at=as_datetime(row["superseded_at"]))


async def _views(rows: Sequence[Mapping[str, Any]]) -> list[PolicyView]:
    labels = await _labels({row["target_path"] for row in rows})
    return [_view(row, labels) for row in rows]


# --- writing -----------------------------------------------------------------------------------

async def target_of(code: str) -> tuple[int, str]:
    row = await Region.select(Region.id, Region.path).where(Region.code == code).first()
    if row is None:
        raise FormErrors({"target_region": error("target_region.unknown")})
    return row["id"], row["path"]


def _values(data: PolicyInput, region_id: int, path: str) -> dict[str, Any]:
    return {"target_region": region_id, "target_path": path, "measure": data.measure,
            "days": data.days, "custom_text": data.custom_text,
            "effective_from": as_utc(data.effective_from),
            "effective_to": as_utc(data.effective_to) if data.effective_to else None,
            "legal_reference": data.legal_reference}


async def _insert(values: dict[str, Any]) -> int:
    # Timestamptz columns default to "now" even when nullable: say None explicitly.
    rows = await Policy.insert(Policy(**{"superseded_at": None, **values})).returning(Policy.id)
    return rows[0]["id"]


async def get_version(policy_id: int) -> PolicyView:
    rows = await Policy.select(*_POLICY_COLUMNS).where(Policy.id == policy_id)
    return (await _views(rows))[0]


async def create(data: PolicyInput, *, created_by: int | None,
                 now: datetime | None = None) -> PolicyView:
    """A new policy (version 1); its ``policy_key`` is its first version's row id."""
    now = as_utc(now or clock.now())
    region_id, path = await target_of(data.target_region_code)
    async with db.write_transaction():
        policy_id = await _insert({**_values(data, region_id, path), "policy_key": 0,
                                   "version": 1, "created_by": created_by, "created_at": now})
        await Policy.update({Policy.policy_key: policy_id}).where(Policy.id == policy_id)
    return await get_version(policy_id)


async def _new_version(policy_key: int, change: Callable[[dict[str, Any]], dict[str, Any]],
                       created_by: int | None, now: datetime) -> int:
    """Lock the current version, stamp it superseded and add ``change(current)`` after it."""
    async with db.write_transaction():
        # On PostgreSQL a concurrent edit may supersede the row we waited for: the row then
        # drops out of the result, and the next statement's snapshot sees the new version.
        for _attempt in range(3):
            current = await db.for_update(Policy.select().where(
                Policy.policy_key == policy_key, Policy.superseded_at.is_null())).first()
            if current is not None:
                break
            if not await Policy.exists().where(Policy.policy_key == policy_key):
                break
        if current is None:
            raise PolicyNotFound(policy_key)
        await Policy.update({Policy.superseded_at: now}).where(Policy.id == current["id"])
        values = {key: current[key] for key in (
            "policy_key", "target_region", "target_path", "measure", "days", "custom_text",
            "effective_from", "effective_to", "legal_reference")}
        values = change(values)
        values.update(version=current["version"] + 1, created_by=created_by, created_at=now)
        values["effective_from"] = as_datetime(values["effective_from"])
        values["effective_to"] = as_datetime(values["effective_to"])
        return await _insert(values)


async def edit(policy_key: int, data: PolicyInput, *, created_by: int | None,
               now: datetime | None = None) -> PolicyView:
    """Replace a policy's content with ``data`` as a new version."""
    now = as_utc(now or clock.now())
    region_id, path = await target_of(data.target_region_code)
    policy_id = await _new_version(
        policy_key, lambda old: {**old, **_values(data, region_id, path)}, created_by, now)
    return await get_version(policy_id)


async def end(policy_key: int, *, at: datetime, created_by: int | None,
              now: datetime | None = None) -> PolicyView:
    """End a policy at ``at`` (a new version with ``effective_to = at``). Ending a policy at
    or before its start cancels it: it is then never in force. A policy cannot be extended
    this way — an end later than the current one is refused."""
    now, at = as_utc(now or clock.now()), as_utc(at)

    def change(old: dict[str, Any]) -> dict[str, Any]:
        ends = as_datetime(old["effective_to"])
        if ends is not None and ends <= at:
            raise FormErrors({"effective_to": error("policy.already_ended")})
        return {**old, "effective_to": at}

    return await get_version(await _new_version(policy_key, change, created_by, now))


async def delete(policy_key: int) -> int:
    """Remove every version of a policy (tests and demo data only: admins end policies)."""
    rows = await Policy.delete().where(Policy.policy_key == policy_key).returning(Policy.id)
    return len(rows)


# --- reading -----------------------------------------------------------------------------------

async def history(policy_key: int) -> list[PolicyView]:
    """Every version of a policy, newest first; [] when there is none."""
    rows = await Policy.select(*_POLICY_COLUMNS).where(
        Policy.policy_key == policy_key).order_by(Policy.version, ascending=False)
    return await _views(rows)


def in_force_at(at: datetime):
    at = as_utc(at)
    return ((Policy.effective_from <= at)
            & (Policy.effective_to.is_null() | (Policy.effective_to > at)))


async def current(*, region_code: str | None = None,
                  active_at: datetime | None = None) -> list[PolicyView]:
    """The latest version of every policy; with ``active_at`` only those in force then, with
    ``region_code`` only those targeting that region or a place inside it."""
    query = Policy.select(*_POLICY_COLUMNS).where(Policy.superseded_at.is_null())
    if active_at is not None:
        query = query.where(in_force_at(active_at))
    if region_code is not None:
        row = await Region.select(Region.path).where(Region.code == region_code).first()
        if row is None:
            return []
        query = query.where(Policy.target_path.like(row["path"] + "%"))
    rows = await query.order_by(Policy.target_path, Policy.policy_key)
    return await _views(rows)


__all__ = [
    "CUSTOM", "DAYS_REQUIRED", "MEASURES", "SEVERITY", "PolicyInput", "PolicyNotFound",
    "PolicyView", "create", "current", "delete", "describe_measure", "edit", "end", "history",
    "parse_policy",
]
