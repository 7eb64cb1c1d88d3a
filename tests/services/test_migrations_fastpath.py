"""Start-up skips Alembic when the schema is current, and still migrates when it is not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from boxoffice.db.engine import Database, sqlite_url
from boxoffice.db.migrate import alembic_config, packaged_head, stored_revision, upgrade


def test_packaged_head_is_alembics_head(db: Database) -> None:
    assert packaged_head() == ScriptDirectory.from_config(alembic_config(db)).get_current_head()
    assert stored_revision(db) == packaged_head()


def test_a_current_database_opens_without_importing_alembic(db_path: Path) -> None:
    script = (
        "import sys\n"
        "from boxoffice.app import build_app\n"
        f"app = build_app({sqlite_url(db_path)!r})\n"
        "print(app.schema_revision, 'alembic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [packaged_head(), "False"]


def test_an_old_database_is_still_upgraded(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "old.sqlite3"))
    assert upgrade(db, "0001") == "0001"
    assert stored_revision(db) == "0001"
    assert upgrade(db) == packaged_head()
    db.dispose()
