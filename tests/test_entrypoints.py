"""proxx finds the plugins' entry points as importlib.metadata does, without importing it."""

from __future__ import annotations

import importlib.metadata
import sys
import zipfile

from proxx.entrypoints import entry_points


def _facts(found):
    return [(ep.name, ep.value, ep.group, ep.dist.name, ep.dist.version) for ep in found]


def test_the_installed_entry_points_are_importlib_metadatas():
    for group in ("proxx", "console_scripts", "pytest11", "no such group"):
        assert _facts(entry_points(group)) == _facts(importlib.metadata.entry_points(group=group)), group
    loaded = {ep.name: ep.load() for ep in entry_points("proxx")}
    assert loaded == {ep.name: ep.load() for ep in importlib.metadata.entry_points(group="proxx")}
    assert {"ffmpeg", "fabric", "resolve"} <= set(loaded)


def _distribution(folder, name, version, entry_points_text, metadata_name="METADATA"):
    info = folder / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / metadata_name).write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nName: not this\n")
    (info / "entry_points.txt").write_text(entry_points_text)


def test_the_first_distribution_of_a_name_on_the_path_wins_and_other_sections_are_left(tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    text = "# a comment\n[console_scripts]\nx = a:b\n\n[proxx]\n  one = pkg.one:plugin [extra]\ntwo=pkg.two\n[other]\nz = c\n"
    _distribution(first, "Studio-Plugins", "1.2", text)
    _distribution(second, "studio.plugins", "9.9", "[proxx]\nthree = pkg.three\n")  # the same name, later
    _distribution(second, "other-plugin", "0.1", "[proxx]\none = other.one\n", metadata_name="PKG-INFO")
    (second / "broken.dist-info").mkdir()  # no metadata, no entry points
    monkeypatch.setattr(sys, "path", [str(tmp_path / "missing"), str(first), str(second)])
    ours = _facts(entry_points("proxx"))
    assert ours == _facts(importlib.metadata.entry_points(group="proxx"))
    assert ours == [
        ("one", "pkg.one:plugin [extra]", "proxx", "Studio-Plugins", "1.2"),
        ("two", "pkg.two", "proxx", "Studio-Plugins", "1.2"),
        ("one", "other.one", "proxx", "other-plugin", "0.1"),
    ]


def test_a_zip_on_the_path_is_read_by_importlib_metadata(tmp_path, monkeypatch):
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("zipped-1.0.dist-info/METADATA", "Name: zipped\nVersion: 1.0\n")
        zipped.writestr("zipped-1.0.dist-info/entry_points.txt", "[proxx]\nzipped = zipped.plugin\n")
    monkeypatch.setattr(sys, "path", [str(archive)])
    assert _facts(entry_points("proxx")) == [("zipped", "zipped.plugin", "proxx", "zipped", "1.0")]
