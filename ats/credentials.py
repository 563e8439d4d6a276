"""What each vendor's connection needs: one table read by the CLI, the Slack connect modal and the adapters."""

from __future__ import annotations

from dataclasses import dataclass

from ats.types import Vendor


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


CREDENTIALS: dict[Vendor, tuple[CredentialField, ...]] = {
    # Harvest v3 custom integrations use OAuth client credentials; `sub` makes writes act as that user.
    # https://harvestdocs.greenhouse.io/docs/authentication
    Vendor.GREENHOUSE: (
        CredentialField(
            "client_id", "Client ID", secret=True, hint="Dev Center → API Credentials (Harvest V3)"
        ),
        CredentialField("client_secret", "Client secret", secret=True),
        CredentialField(
            "user_id",
            "Acting user ID",
            secret=False,
            required=False,
            hint="Greenhouse user id of a Site Admin that exports are attributed to",
        ),
        CredentialField(
            "source_id",
            "Source ID",
            secret=False,
            required=False,
            hint="Greenhouse source to credit exports to (default: none)",
        ),
        CredentialField(
            "auth_url", "Token URL", secret=False, required=False, hint="only for sandboxes and emulators"
        ),
    ),
    # Lever writes require `perform_as`. https://hire.lever.co/developer/documentation
    Vendor.LEVER: (
        CredentialField(
            "api_key", "API key", secret=True, hint="Settings → Integrations and API → API Credentials"
        ),
        CredentialField(
            "perform_as",
            "Acting user ID",
            secret=False,
            hint="Lever user id that opportunities are created as",
        ),
    ),
    Vendor.ASHBY: (
        CredentialField(
            "api_key",
            "API key",
            secret=True,
            hint="Admin → API Keys (candidatesRead/Write, jobsRead, hiringProcessMetadataRead)",
        ),
        CredentialField("source_id", "Source ID", secret=False, required=False),
    ),
    # Workable's API lives on the account's own subdomain. https://workable.readme.io/reference
    Vendor.WORKABLE: (
        CredentialField("api_key", "Access token", secret=True, hint="Settings → Integrations → Apps"),
        CredentialField("subdomain", "Account subdomain", secret=False, hint="the NAME in NAME.workable.com"),
        # Copying a duplicate into another job acts as a member. https://workable.readme.io/reference/copy-candidate
        CredentialField(
            "member_id",
            "Member ID",
            secret=False,
            required=False,
            hint="Workable member that existing candidates are copied into jobs as (GET /members)",
        ),
    ),
    Vendor.BAMBOOHR: (
        CredentialField("api_key", "API key", secret=True, hint="Your profile → API Keys"),
        CredentialField("subdomain", "Company domain", secret=False, hint="the NAME in NAME.bamboohr.com"),
    ),
}

#: The secret that `--api-key` (and the connect form's main field) fills, per vendor.
PRIMARY_SECRET: dict[Vendor, str] = {
    Vendor.GREENHOUSE: "client_secret",
    Vendor.LEVER: "api_key",
    Vendor.ASHBY: "api_key",
    Vendor.WORKABLE: "api_key",
    Vendor.BAMBOOHR: "api_key",
}


class CredentialsIncomplete(ValueError):
    """Required connection values are missing or unknown ones were given."""


def split_credentials(vendor: Vendor, values: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Split submitted values into (secrets, fields), refusing unknown names and missing required ones."""
    spec = {f.name: f for f in CREDENTIALS[vendor]}
    unknown = sorted(set(values) - set(spec))
    if unknown:
        raise CredentialsIncomplete(
            f"{vendor.label} does not take {', '.join(unknown)}; it takes {', '.join(spec)}."
        )
    missing = [f.label for f in spec.values() if f.required and not (values.get(f.name) or "").strip()]
    if missing:
        raise CredentialsIncomplete(f"{vendor.label} needs {', '.join(missing)}.")
    secrets = {n: v.strip() for n, v in values.items() if spec[n].secret and v.strip()}
    fields = {n: v.strip() for n, v in values.items() if not spec[n].secret and v.strip()}
    return secrets, fields
