"""E-mail addresses as identities: one normal form, and a skeleton that look-alikes share.

Two addresses a person cannot tell apart must not be two accounts. The normal form is what is
stored and logged in with: NFKC (full-width ``ａ`` is ``a``, a decomposed accent is the
precomposed one), without default-ignorable code points (a zero-width space, a soft hyphen),
lower-cased. The skeleton is Unicode's confusable skeleton (UTS #39, from ICU's spoof checker):
Cyrillic ``а`` and Latin ``a`` share one, as do ``rn`` and ``m``. Users hold a unique skeleton,
so a look-alike of an existing address is refused at registration.
"""

from __future__ import annotations

import unicodedata

import icu

_IGNORABLE = icu.UnicodeSet("[:Default_Ignorable_Code_Point:]")
_IGNORABLE.freeze()  # immutable from here on, so threads may share it
_SPOOF = icu.SpoofChecker()


def normalize_email(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(ch for ch in text if not _IGNORABLE.contains(ch))
    return text.strip().lower()


def email_skeleton(email: str) -> str:
    """The confusable skeleton of an already normalised address."""
    return _SPOOF.getSkeleton(0, email)  # 0: the one skeleton type UTS #39 now defines
