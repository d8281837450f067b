"""Reading server-rendered HTML in tests: visible text, elements by id, forms and their fields."""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

# Elements without content or end tag (HTML: void elements).
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list["Element | str"] = field(default_factory=list)

    def text(self) -> str:
        """What a reader sees of it: its text with whitespace collapsed."""
        return re.sub(r"\s+", " ", self._raw_text()).strip()

    def _raw_text(self) -> str:
        return " ".join(
            child if isinstance(child, str) else child._raw_text() for child in self.children
        )

    def descendants(self) -> list["Element"]:
        found = []
        for child in self.children:
            if isinstance(child, Element):
                found.append(child)
                found.extend(child.descendants())
        return found

    def by_id(self, element_id: str) -> "Element | None":
        return next((e for e in self.descendants() if e.attrs.get("id") == element_id), None)

    def all(self, tag: str) -> list["Element"]:
        return [element for element in self.descendants() if element.tag == tag]


@dataclass(frozen=True)
class Form:
    action: str
    method: str
    fields: dict[str, str]  # what the browser would send, textareas as the reader sees them


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self._open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self._open[-1].children.append(element)
        if tag not in _VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._open) - 1, 0, -1):
            if self._open[depth].tag == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        self._open[-1].children.append(data)


def read_page(html: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def body_text(html: str) -> str:
    """The visible text of the page's body."""
    [body] = read_page(html).all("body")
    return body.text()


def forms(html: str) -> list[Form]:
    return [_form(element) for element in read_page(html).all("form")]


def _form(element: Element) -> Form:
    fields = {
        field.attrs["name"]: field.attrs.get("value", "")
        for field in element.all("input")
        if "name" in field.attrs
    }
    for area in element.all("textarea"):
        # As browsers parse it: the one line break right after <textarea> is not content.
        content = "".join(child for child in area.children if isinstance(child, str))
        fields[area.attrs["name"]] = content.removeprefix("\n")
    return Form(element.attrs.get("action", ""), element.attrs.get("method", "get"), fields)
