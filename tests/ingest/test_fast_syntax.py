"""The import's quick email and LinkedIn URL checks give exactly the answers of the rules they stand in for.

`ingest.fast_syntax` accepts plain addresses and profile URLs without `email-validator`'s Unicode work;
whatever it accepts must be what `core.contacts` accepts, written the same way, and for everything else it
must defer to it. Compared here on edge cases and on tens of thousands of generated inputs.
"""

from __future__ import annotations

import random

import pytest

from core.contacts import check_email, normalize_linkedin_url
from ingest.fast_syntax import email_address, linkedin_url, plain_email

EDGE_EMAILS = [
    "ada@example.com",
    " Ada.Lovelace+tag@Example.COM ",
    "a@b.co",
    "a@b.c1",  # the last label must end with a letter
    "a@b.1c",
    "a@b.-c",
    "a@b.c-",
    "a@-b.com",
    "a@b-.com",
    "a@b--c.com",  # `??--` labels other than Punycode are reserved (RFC 5890)
    "a@ab--c.com",
    "a@xn--bcher-kva.example",  # Punycode: the library decodes it
    "a@xn--.com",
    "a@localhost",
    "a@x.localhost",
    "a@x.test",
    "a@test",
    "a@x.onion",
    "a@x.arpa",
    "a@x.invalid",
    "a@x.local",
    "a@x.example",
    "a@com",
    ".a@b.com",
    "a.@b.com",
    "a..b@b.com",
    "a@b..com",
    "a@.b.com",
    "a@b.com.",
    "@b.com",
    "a@",
    "a",
    "a@@b.com",
    "a@b@c.com",
    '"a b"@c.com',
    "Ada <ada@example.com>",
    "a b@c.com",
    "info@example.com",
    "INFO@example.com",
    "postmaster@example.com",
    "é@example.com",
    "a@exämple.com",
    "\u212a@example.com",  # KELVIN SIGN, lower-cased to an ASCII k
    "a@exa\u212aple.com",
    "a@ｅxample.com",
    "a@example．com",
    "a\u0301@example.com",
    "a@b.c\u0301om",
    "!#$%&'*+-/=?^_`{|}~@example.com",
    "a@" + "b" * 63 + ".com",
    "a@" + "b" * 64 + ".com",
    "a" * 64 + "@example.com",
    "a" * 65 + "@example.com",
    "a@" + ".".join(["b" * 61] * 4) + ".com",
    "a" * 240 + "@example.com",
    "a" * 241 + "@example.com",
    "a" * 242 + "@example.com",
    "a" * 243 + "@example.com",
]

EDGE_URLS = [
    "https://www.linkedin.com/in/ada",
    "linkedin.com/in/Ada-Lovelace/",
    "http://uk.linkedin.com/pub/ada/",
    "HTTPS://WWW.LINKEDIN.COM/IN/ADA",
    "https://www.linkedin.com/in/ada?trk=x",
    "https://www.linkedin.com/in/ada/details",
    "https://www.linkedin.com/in/",
    "https://www.linkedin.com/company/acme",
    "https://linkedin.com.evil.example/in/ada",
    "https://evil.example/in/ada",
    "https://user@www.linkedin.com/in/ada",
    "https://www.linkedin.com:443/in/ada",
    "ftp://www.linkedin.com/in/ada",
    "www.linkedin.com/in/a%C3%A9",
    "www.linkedin.com/in/ada.l_x~y",
    "www.linkedin.com/in/adé",
    " https://www.linkedin.com/in/ada ",
    "https://www.linkedin.com/in/ada#about",
    "https://a.b.linkedin.com/in/ada",
    "https://-x.linkedin.com/in/ada",
    "https://www.linkedin.com//in/ada",
    "https://www.linkedin.com/in//ada",
    "https://www.linkedin.com/IN/ada",
]

_EMAIL_CHARS = "abcxyzAZ0189.-_+@'!#%~é\u212a\u0301 .\"<>"


def _generated_emails(rng: random.Random, count: int) -> list[str]:
    out = []
    for _ in range(count):
        shape = rng.random()
        if shape < 0.35:  # noise
            out.append("".join(rng.choice(_EMAIL_CHARS) for _ in range(rng.randint(0, 14))))
            continue
        local = "".join(rng.choice("abcXY09._-+'%") for _ in range(rng.choice([1, 3, 8, 63, 64, 65])))
        labels = [
            "".join(rng.choice("abcz09-") for _ in range(rng.choice([1, 2, 4, 12, 62, 63, 64])))
            for _ in range(rng.randint(1, 5))
        ]
        tld = rng.choice(["com", "org", "c0m", "1", "co-", "-co", "xn--p1ai", "test", "local", "io", "ab--c"])
        domain = ".".join([*labels, tld] if rng.random() < 0.9 else labels)
        if rng.random() < 0.1:
            domain = domain.replace(".", "..", 1)
        out.append(f"{local}@{domain}")
    return out


def _generated_urls(rng: random.Random, count: int) -> list[str]:
    out = []
    for _ in range(count):
        scheme = rng.choice(["", "https://", "http://", "HTTPS://", "ftp://", "//"])
        host = rng.choice(
            ["www.linkedin.com", "linkedin.com", "uk.linkedin.com", "LinkedIn.com", "linkedin.co"]
        )
        kind = rng.choice(["in", "pub", "IN", "company", ""])
        slug = "".join(rng.choice("abAZ09-_.~%é/?# ") for _ in range(rng.randint(0, 10)))
        tail = rng.choice(["", "/", "/x", "?a=b", "#f"])
        out.append(f"{scheme}{host}/{kind}/{slug}{tail}")
    return out


def _library_email(raw: str) -> tuple[str, str | None]:
    check = check_email(raw)
    return check.address, None if check.valid else check.problem


@pytest.mark.parametrize("raw", EDGE_EMAILS)
def test_an_edge_case_address_gets_the_librarys_answer(raw: str) -> None:
    assert email_address(raw) == _library_email(raw)


def test_generated_addresses_get_the_librarys_answers() -> None:
    rng = random.Random(22)
    cases = _generated_emails(rng, 20_000)
    quick = 0
    for raw in cases:
        assert email_address(raw) == _library_email(raw), raw
        quick += plain_email(raw) is not None
    assert quick > 500, "the quick path is taken for plain addresses"


@pytest.mark.parametrize("raw", EDGE_URLS)
def test_an_edge_case_url_gets_the_rules_answer(raw: str) -> None:
    assert linkedin_url(raw) == normalize_linkedin_url(raw)


def test_generated_urls_get_the_rules_answers() -> None:
    rng = random.Random(22)
    for raw in _generated_urls(rng, 20_000):
        assert linkedin_url(raw) == normalize_linkedin_url(raw), raw


def test_plain_forms_take_the_quick_path() -> None:
    assert plain_email(" Ada.Lovelace+x@Example.COM") == "ada.lovelace+x@example.com"
    assert plain_email("a@xn--bcher-kva.example") is None  # the library decodes Punycode
    assert plain_email("a@x.test") is None  # special-use names: the library says why
