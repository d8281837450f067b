"""Every sentence of the pages has its German text: a message added in English only fails here
(German is the default language, so it would be shown in English to most readers)."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from services.registration.web import site
from services.registration.web.staff import site as staff_site
from services.runtime.languages import CATALOG, RUNTIME_LOCALES

TEMPLATES = ("**/templates/**.html", "jinja2.ext:babel_extract")
PYTHON = ("**.py", "python")
# The staff console has its own catalog: its messages are left out of the public pages'.
STAFF = ("staff/**", "ignore")
# What `pybabel extract` would be given: the templates and the Python that calls gettext.
SOURCES = [
    (site.WEB, [STAFF, TEMPLATES, PYTHON], site.LOCALES),
    (staff_site.WEB, [TEMPLATES, PYTHON], staff_site.LOCALES),
    (RUNTIME_LOCALES.parent, [("forms.py", "python"), TEMPLATES], RUNTIME_LOCALES),
]


def _messages(directory: Path, method_map: list[tuple[str, str]]) -> set[str]:
    options = {TEMPLATES[0]: {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
    found = set()
    for _, _, message, _, _ in extract_from_dir(str(directory), method_map, options):
        assert isinstance(message, str), message  # no plural forms in use yet
        found.add(message)
    return found


@pytest.mark.parametrize(("directory", "method_map", "locales"), SOURCES)
def test_every_message_has_its_german_text(
    directory: Path, method_map: list[tuple[str, str]], locales: Path
) -> None:
    with (locales / "de" / "LC_MESSAGES" / CATALOG).open("rb") as source:
        catalog = read_po(source)
    translated = {message.id for message in catalog if message.id and message.string}

    used = _messages(directory, method_map)

    assert used, directory  # the extraction found the messages at all
    assert sorted(used - translated) == []
    assert sorted(translated - used) == []  # and no stale sentences are kept
