"""Every sentence of the dashboard's pages has its German text (German is the default)."""

from babel.messages.pofile import read_po

from services.reporting.web import site
from services.runtime.languages import CATALOG
from tests.unit.registration.test_page_catalog import PYTHON, TEMPLATES, _messages


def test_every_dashboard_message_has_its_german_text() -> None:
    with (site.LOCALES / "de" / "LC_MESSAGES" / CATALOG).open("rb") as source:
        catalog = read_po(source)
    translated = {message.id for message in catalog if message.id and message.string}
    used = _messages(site.WEB, [TEMPLATES, PYTHON])
    assert used
    assert used - translated == set()
