"""The rules a name obeys (customer names and sandbox labels): what passes, what is refused and
why. The contract's own cases are in test_registration.py; these are the finer ones."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from core.errors import InvalidInput
from core.settings import Settings
from main import create_app
from services.customers import normalize_customer_name

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # man ZWJ woman ZWJ girl: one emoji
WAVING = "\U0001f44b\U0001f3fd"  # waving hand with a skin tone
IVAN = "Иван Петров"
HEART = "\u2764\ufe0f"  # heavy black heart with the emoji presentation selector


@pytest.mark.parametrize(
    "name",
    [
        IVAN,
        "山田太郎",
        "やまだ たろう",
        "ヤマダ タロウ",
        "山田 たろう",
        "김민준",
        "Γιώργος Παπαδόπουλος",
        "José Müller-Lüdenscheidt",
        "O'Brien",
        "Zoë",
        "محمد علي",
        "דוד כהן",
        "राहुल शर्मा",
        "Anna-Maria Ødegård",
        "Иван Smith",  # two words, one script each
        "Jean-Luc Picard 3rd",
        f"Ann {FAMILY}",
        f"{FAMILY}{FAMILY}",
        f"Sam {WAVING}",
        f"Jo {HEART}",
        "\U0001f600\U0001f600",
    ],
)
def test_names_in_one_script_per_word_pass(name: str) -> None:
    assert normalize_customer_name(name) == name


def refusal(name: str) -> str:
    with pytest.raises(InvalidInput) as refused:
        normalize_customer_name(name)
    return refused.value.detail


@pytest.mark.parametrize(
    "name",
    [
        "a\u200b",  # one letter and a zero-width space
        "a\u200d",
        "b\u2060",
        "\u00e9\u0301",  # one letter with two accents is one character
        FAMILY,  # one emoji, however many code points
        "\U0001f1eb\U0001f1f7",  # one flag: two regional indicators
        "x\ufe0f",
    ],
)
def test_the_minimum_counts_visible_characters(name: str) -> None:
    assert refusal(name) == "name: must be at least 2 characters after trimming"


def test_a_leading_byte_order_mark_is_removed() -> None:
    assert normalize_customer_name("\ufeffGrace Hopper") == "Grace Hopper"
    assert normalize_customer_name(" \ufeff Grace") == "Grace"


@pytest.mark.parametrize(
    ("name", "code_point"),
    [
        ("Bob\u200bSmith", "U+200B"),  # zero-width space
        ("Bo\ufeffb", "U+FEFF"),  # a byte-order mark inside
        ("Bob\u206aSmith", "U+206A"),  # inhibit symmetric swapping
        ("Bob\ufff9Smith", "U+FFF9"),  # interlinear annotation anchor
        ("Bob\u180eSmith", "U+180E"),  # Mongolian vowel separator
        ("Jo\u200dhn", "U+200D"),  # a joiner inside a Latin name
        ("Jo\u200chn", "U+200C"),
        ("Jo\u00adhn", "U+00AD"),  # soft hyphen
        ("Jo\u034fhn", "U+034F"),  # combining grapheme joiner
        ("Bob\u3164Smith", "U+3164"),  # Hangul filler beside letters
        ("John\ufe0f", "U+FE0F"),  # an emoji selector on a letter
        ("\U0001f600\ufe0f\ufe0f Smith", "U+FE0F"),  # a second selector hides a byte
        ("\U0001f600\U000e0101 Smith", "U+E0101"),
        (f"Ann \u200d{FAMILY}", "U+200D"),  # a joiner that joins nothing
    ],
)
def test_invisible_and_format_characters_are_refused(name: str, code_point: str) -> None:
    detail = refusal(name)
    assert detail.startswith("name: must not contain invisible or formatting characters")
    assert code_point in detail


@pytest.mark.parametrize(
    ("name", "scripts"),
    [
        ("J\u043ehn D\u043e\u0435", "Cyrillic and Latin"),  # John Doe, Cyrillic o and e
        ("\u0420aypal Inc", "Cyrillic and Latin"),
        ("Ivan \u041f\u0435\u0442\u0440ov", "Cyrillic and Latin"),
        ("\u0391lice", "Greek and Latin"),  # Greek capital alpha
        ("山田a", "Han and Latin"),
        ("김山田", None),  # Hangul and Han: Korean names may use Hanja
    ],
)
def test_a_word_that_mixes_scripts_is_refused(name: str, scripts: str | None) -> None:
    if scripts is None:
        assert normalize_customer_name(name) == name
        return
    detail = refusal(name)
    assert detail.startswith("name: each word must be written in one script")
    assert scripts in detail


def test_the_name_rules_apply_to_registration(client: TestClient) -> None:
    response = client.post("/register-customer", json={"name": "J\u043ehn D\u043e\u0435"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("name: each word must be written in one script")
    response = client.post("/register-customer", json={"name": "\ufeff" + IVAN})
    assert response.status_code == 200
    assert response.json()["name"] == IVAN


@pytest.fixture
def bank(database_url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=database_url, sandbox_max=2))
    with TestClient(app) as test_client:
        yield test_client
        for sandbox in test_client.get("/sandboxes").json():
            test_client.delete(f"/sandboxes/{sandbox['sandbox_id']}")


@pytest.mark.parametrize(
    ("label", "rule"),
    [
        ("episode\u202e1", "label: must not contain bidirectional"),
        ("run\u200b1", "label: must not contain invisible or formatting characters"),
        ("run\n1", "label: must not contain control characters"),
        ("\u200b", "label: must be empty or show at least one visible character"),
        ("\u3164", "label: must be empty or show at least one visible character"),
        ("ep\u0456sode", "label: each word must be written in one script"),
    ],
)
def test_sandbox_labels_follow_the_name_rules(bank: TestClient, label: str, rule: str) -> None:
    response = bank.post("/sandboxes", json={"label": label})
    assert response.status_code == 400
    assert response.json()["detail"].startswith(rule)
    assert bank.get("/sandboxes").json() == []


def test_a_sandbox_label_is_trimmed_and_normalised(bank: TestClient) -> None:
    response = bank.post("/sandboxes", json={"label": "\ufeff Cafe\u0301 épisode "})
    assert response.status_code == 201
    assert response.json()["label"] == "Café épisode"
    assert bank.post("/sandboxes", json={}).json()["label"] == ""
