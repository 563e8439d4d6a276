"""What the app knows about one ATS vendor, declared once as `SPEC` at the top of the vendor's module.

The connect form, `scaleup ats connect`, the rate budgets and the export engine all read the vendor's spec
(through `ats.registry.spec_of`) instead of keeping tables of their own: a vendor's label, credentials,
request limit and capabilities live in exactly one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ats.types import Capabilities
from core.errors import ScaleUpError
from core.vocabulary import Vendor


@dataclass(frozen=True)
class CredentialField:
    """One value a connection stores.

    Attributes:
        name: key in the connection's `secrets` (secret=True, encrypted) or `fields` (plain) mapping.
        label: what the connect form calls it.
        secret: stored encrypted and never echoed back.
        required: the connection cannot work without it.
        hint: where a recruiter finds it.
    """

    name: str
    label: str
    secret: bool
    required: bool = True
    hint: str = ""


@dataclass(frozen=True)
class VendorLimit:
    """At most `limit` requests in any `window` seconds, as budgeted for one vendor account."""

    limit: int
    window: float


class CredentialsIncomplete(ScaleUpError):
    """Required connection values are missing or unknown ones were given."""


@dataclass(frozen=True)
class VendorSpec:
    """One vendor, as the rest of the app needs to know it.

    Attributes:
        vendor: the value a connection row stores.
        label: the vendor's name as recruiters write it ("Greenhouse").
        credentials: what a connection stores, in the order the connect form asks for it.
        primary_secret: the secret `--api-key` and the connect form's main field fill.
        rate_limit: the request budget of one connection; a little under the vendor's limit, as the limit is
            per account and other tools may share it (`SCALEUP_ATS_RATE_LIMITS` overrides it).
        capabilities: what the vendor's API lets the app do (an adapter may refine it per connection).
    """

    vendor: Vendor
    label: str
    credentials: tuple[CredentialField, ...]
    primary_secret: str
    rate_limit: VendorLimit
    capabilities: Capabilities

    def __post_init__(self) -> None:
        names = [f.name for f in self.credentials]
        if len(set(names)) != len(names) or self.primary_secret not in names:
            raise ValueError(
                f"{self.label}: credential names must be unique and include {self.primary_secret}"
            )

    def split_credentials(self, values: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        """Split submitted values into (secrets, fields), refusing unknown names and missing required ones.

        Raises:
            CredentialsIncomplete: naming the unknown or missing values.
        """
        spec = {f.name: f for f in self.credentials}
        unknown = sorted(set(values) - set(spec))
        if unknown:
            raise CredentialsIncomplete(
                f"{self.label} does not take {', '.join(unknown)}; it takes {', '.join(spec)}."
            )
        missing = [f.label for f in spec.values() if f.required and not (values.get(f.name) or "").strip()]
        if missing:
            raise CredentialsIncomplete(f"{self.label} needs {', '.join(missing)}.")
        secrets = {n: v.strip() for n, v in values.items() if spec[n].secret and v.strip()}
        fields = {n: v.strip() for n, v in values.items() if not spec[n].secret and v.strip()}
        return secrets, fields
