"""What the documents workers are given: the issued documents read model and the archive of their PDFs."""

from __future__ import annotations

from dataclasses import dataclass

from infra.catalogue import load_catalogue
from infra.nameko_support import ReadModelProvider
from infra.readmodel import ReadModel
from infra.settings import Settings
from services.documents.archive import LetterArchive


@dataclass
class Office:
    read_model: ReadModel
    archive: LetterArchive

    def close(self) -> None:
        self.read_model.close()


class LetterOffice(ReadModelProvider):
    """The letters read model and the archive of rendered PDFs built on it."""

    def __init__(self) -> None:
        super().__init__("documents.letters")

    def build(self, settings: Settings) -> Office:  # type: ignore[override]
        read_model = super().build(settings)
        catalogue = load_catalogue(settings.region_dir)
        letters = settings.var_dir / "letters"
        archive = LetterArchive(read_model.engine, read_model.projection, letters, settings, catalogue)  # type: ignore[arg-type]
        return Office(read_model, archive)
