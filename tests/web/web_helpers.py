"""Helpers shared by the web shell's tests."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from proxx.web.service import WebService

STUDIO_INTENT = """user_profile_version: "1.1"
name: Studio Review
description: The studio's review copies.
{lifecycle}constraints:
  codecs: [h264]
  resolution: [scale_50]
  engine_preference: [ffmpeg]
"""


def write_studio_intent(layer: Path, deprecated: bool = False) -> None:
    (layer / "user").mkdir(parents=True, exist_ok=True)
    lifecycle = "lifecycle: deprecated\n" if deprecated else ""
    (layer / "user" / "studio_review.yaml").write_text(STUDIO_INTENT.format(lifecycle=lifecycle), encoding="utf-8")


def create(client: TestClient, source: str, intent: str = "Review H.264") -> str:
    response = client.post("/api/jobs", json={"intent": intent, "sources": [source], "output_folder": "media/out"})
    assert response.status_code == 201, response.text
    job_id: str = response.json()["job_id"]
    return job_id


def run(service: WebService, job_id: str) -> None:
    service.proxx.run_job(job_id)


# Test artefacts (screenshots, fuzzing figures): gitignored, kept after the run.
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
