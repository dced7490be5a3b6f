"""Real face photos from registry packages, fetched into ``var/cache/faces`` (never committed), with their labels.

Sources (pinned, checked by SHA-256; the licences are those of the packages):
- PyPI source package ``face_recognition==1.3.0`` (MIT, Adam Geitgey): ``tests/test_images/``: three photos of
  one person and one of another. ``32bit.png`` is the same picture as ``obama2.jpg`` in another format and the two
  ``obama_partial_face`` files are crops of ``obama.jpg``: they are left out, since they are not independent photos.
- npm package ``@vladmandic/face-api@1.7.15`` (MIT, Vladimir Mandic): ``demo/sample1-6.jpg``: group photos without
  names; the people within one photo are certainly different people.

``EW_FACE_IMAGES_DIR`` points at an existing copy instead (a folder laid out as this script leaves it).
Run ``python -m simulators.face_images`` to fetch.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

CACHE = Path("var/cache/faces")


@dataclass(frozen=True)
class Package:
    """A registry package pinned by version and archive hash, and the photos taken from it."""

    name: str
    registry: str
    version: str
    sha256: str
    licence: str
    members: dict[str, str]  # path inside the archive -> file name in the cache


FACE_RECOGNITION = Package(
    "face_recognition", "pypi", "1.3.0", "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec",
    "MIT (Copyright (c) 2017, Adam Geitgey)",
    {f"face_recognition-1.3.0/tests/test_images/{n}.jpg": f"fr_{n}.jpg" for n in ("obama", "obama2", "obama3",
                                                                                   "biden")},
)
FACE_API = Package(
    "@vladmandic/face-api", "npm", "1.7.15", "0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031",
    "MIT (Copyright (c) Vladimir Mandic)",
    {f"package/demo/sample{i}.jpg": f"group_sample{i}.jpg" for i in range(1, 7)},
)
PACKAGES = (FACE_RECOGNITION, FACE_API)

# labelled photos: file -> identity (only within the face_recognition set are identities named)
IDENTITIES = {"fr_obama.jpg": "fr:A", "fr_obama2.jpg": "fr:A", "fr_obama3.jpg": "fr:A", "fr_biden.jpg": "fr:B"}
GROUP_PHOTOS = tuple(f"group_sample{i}.jpg" for i in range(1, 7))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(pkg: Package, into: Path) -> Path:
    """The package archive through its registry's own client."""
    if pkg.registry == "pypi":
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
               "--disable-pip-version-check", "-d", str(into), f"{pkg.name}=={pkg.version}"]
    else:
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is needed to fetch the group photos (apt-get install -y npm)")
        cmd = [npm, "pack", "--silent", f"{pkg.name}@{pkg.version}", "--pack-destination", str(into)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)  # noqa: S603 - fixed argv, pinned names
    found = [p for p in into.iterdir() if p.suffix in (".gz", ".tgz")]
    if len(found) != 1:
        raise RuntimeError(f"expected one archive from {pkg.registry} for {pkg.name}, found {found}")
    return found[0]


def fetch(cache: Path = CACHE) -> Path:
    """Download, check and unpack the photos into ``cache``; write ``manifest.json``; a no-op when complete."""
    manifest_path = cache / "manifest.json"
    if manifest_path.is_file() and all((cache / n).is_file() for p in PACKAGES for n in p.members.values()):
        return cache
    cache.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict[str, str]] = {}
    for pkg in PACKAGES:
        with tempfile.TemporaryDirectory() as tmp:
            archive = _download(pkg, Path(tmp))
            got = _sha256(archive)
            if got != pkg.sha256:
                raise RuntimeError(f"{pkg.name} {pkg.version}: SHA-256 {got} is not the pinned {pkg.sha256}")
            with tarfile.open(archive, "r:gz") as tar:
                for member, name in pkg.members.items():
                    src = tar.extractfile(member)
                    if src is None:
                        raise RuntimeError(f"{member} missing from {pkg.name} {pkg.version}")
                    (cache / name).write_bytes(src.read())
                    files[name] = {"package": f"{pkg.registry}:{pkg.name}=={pkg.version}", "path": member,
                                   "archive_sha256": pkg.sha256, "licence": pkg.licence,
                                   "sha256": _sha256(cache / name)}
    manifest = {"files": files, "identities": IDENTITIES, "group_photos": list(GROUP_PHOTOS)}
    manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return cache


def images_dir() -> Path:
    """Where the photos are: ``EW_FACE_IMAGES_DIR`` or the cache, which must have been fetched."""
    override = os.environ.get("EW_FACE_IMAGES_DIR")
    folder = Path(override) if override else CACHE
    if not (folder / "manifest.json").is_file():
        raise FileNotFoundError(f"no face photos in {folder}: run `python -m simulators.face_images` first")
    return folder


if __name__ == "__main__":
    print(fetch())
