"""Languages: what a person reads, in Simplified Chinese or English (docs/i18n.md).

- `languages`: the two languages served, and how a request picks one (`negotiate`).
- `catalog`: the gettext catalogs; `gettext`/`ngettext` translate into the language in use
  (`use`, a context variable that the web middleware sets per request).
- `messages`: `Message`, a text with parameters that is English wherever it is printed as a
  `str` (logs, the CLI, JSON `message` fields) and is translated again where a page shows it.
- `formats`: dates, numbers, money and percentages per language (CLDR, through Babel).
- `text`: a policy's texts, which may be a string or a map from language tag to string.
"""

from socialcredit.i18n.catalog import gettext, ngettext
from socialcredit.i18n.languages import (
    DEFAULT,
    LANGUAGES,
    current,
    language_of,
    negotiate,
    use,
)
from socialcredit.i18n.messages import N_, Message, localize
from socialcredit.i18n.text import Localized, text

_ = gettext

__all__ = [
    "DEFAULT",
    "LANGUAGES",
    "N_",
    "Localized",
    "Message",
    "_",
    "current",
    "gettext",
    "language_of",
    "localize",
    "negotiate",
    "ngettext",
    "text",
    "use",
]
