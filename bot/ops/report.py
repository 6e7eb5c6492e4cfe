"""``anshin report``: a short campaign table from a ``/metrics`` page, for a school or a board of education.

Only the starts counter is read (campaign x audience x locale); there is nothing per person to read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

__all__ = ["CampaignRow", "ReportError", "campaign_rows", "format_table"]

AUDIENCES = ("parent", "teen", "school", "unknown")


class ReportError(Exception):
    """The input is not a Prometheus text page with Anshin's counters."""


@dataclass(frozen=True)
class CampaignRow:
    campaign: str
    by_audience: dict[str, int]
    by_locale: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_audience.values())


def campaign_rows(exposition: str) -> list[CampaignRow]:
    """Starts per campaign, split by audience and by language; biggest campaign first, then ``other``, ``none`` last."""
    audiences: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(AUDIENCES, 0))
    locales: dict[str, dict[str, int]] = defaultdict(dict)
    seen = False
    try:
        families = list(text_string_to_metric_families(exposition))
    except ValueError as error:
        raise ReportError(f"not a Prometheus metrics page: {error}") from None
    for family in families:
        if family.name != "anshin_starts":
            continue
        seen = True
        for sample in family.samples:
            if sample.name != "anshin_starts_total":
                continue
            campaign, audience = sample.labels.get("campaign", "?"), sample.labels.get("audience", "unknown")
            locale, value = sample.labels.get("locale", "?"), round(sample.value)
            row = audiences[campaign]
            row[audience] = row.get(audience, 0) + value
            locales[campaign][locale] = locales[campaign].get(locale, 0) + value
    if not seen:
        raise ReportError("no anshin_starts counter in the input: is this an Anshin /metrics page?")
    rows = [CampaignRow(c, audiences[c], locales[c]) for c in audiences]
    return sorted(rows, key=lambda r: ({"other": 1, "none": 2}.get(r.campaign, 0), -r.total, r.campaign))


def format_table(rows: list[CampaignRow]) -> str:
    locales = sorted({code for row in rows for code in row.by_locale})
    header = ["campaign", *AUDIENCES, *locales, "total"]
    body = [[row.campaign, *(str(row.by_audience.get(a, 0)) for a in AUDIENCES),
             *(str(row.by_locale.get(code, 0)) for code in locales), str(row.total)] for row in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]

    def fmt(line: list[str]) -> str:
        return "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths,
                                                                                                     strict=True)))

    lines = [fmt(header), fmt(["-" * w for w in widths]), *(fmt(line) for line in body)]
    lines.append("starts: conversations opened (not people); none = no campaign link, other = unknown code")
    return "\n".join(lines) + "\n"
