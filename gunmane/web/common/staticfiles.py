"""Static files for production: hashed names and gzip/Brotli copies made by `collectstatic`, served by WhiteNoise
with a year's cache (a hashed name changes whenever the file does, so browsers never keep a stale script)."""

from __future__ import annotations

from django.contrib.staticfiles.storage import HashedFilesMixin
from whitenoise.storage import CompressedManifestStaticFilesStorage

# The vendored libraries' source maps are not shipped (they are for debugging the libraries themselves), so the
# `sourceMappingURL` comments at their ends are left alone instead of failing `collectstatic` for a missing file.
_PATTERNS = tuple(
    (glob, tuple(p for p in patterns if "sourceMappingURL" not in (p[0] if isinstance(p, tuple) else p)))
    for glob, patterns in HashedFilesMixin.patterns
)


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's hashed + compressed storage, without the source-map rewriting, and lenient before the first
    `collectstatic`: a name missing from the manifest is served under its own name (WhiteNoise finds it in the
    app's folders) rather than failing every page of a server started without `gunmane serve --production`."""

    patterns = _PATTERNS
    manifest_strict = False

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:  # not collected yet: the plain name, which WhiteNoise serves from the app's folders
            return name
