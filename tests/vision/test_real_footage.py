"""The audit that checks the committed real-clip annotations against the footage names every disagreement.

The audit itself (every annotated point on something that moved, every file of its recorded length) needs the
clips, which are not redistributable and not present on every test machine; it runs as
``python -m estatewatch.bench.real_audit`` once ``python -m estatewatch.bench.real_clips`` has fetched them
(docs/real-footage.md). This test checks its verdicts on given measurements, without the footage.
"""

from __future__ import annotations

from estatewatch.bench.real_audit import FallAudit, FileInfo, problems
from estatewatch.bench.real_clips import DEFAULT_MANIFEST, Clip, load_manifest


def fall_clips() -> list[Clip]:
    return [c for c in load_manifest(DEFAULT_MANIFEST) if c.kind == "fall"]


def test_problems_name_each_disagreement() -> None:
    clip = next(c for c in fall_clips() if c.id == "office2-fall")
    weak = FallAudit("A", "fall", [60.0, 12.0, 55.0], [2.0, 3.0, 1.0])
    out = problems(clip, FileInfo(frames=300, width=1920, height=1080), [weak])
    assert any("1920x1080" in line for line in out)
    assert any("decodes to 300 frames" in line for line in out)
    assert any("run past" in line for line in out)
    assert any("office2-fall/A" in line and "[1]" in line for line in out)
    assert problems(clip, FileInfo(339, 1280, 720), [FallAudit("A", "fall", [60.0], [2.0])]) == []
