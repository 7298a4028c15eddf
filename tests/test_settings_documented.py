"""Every setting is documented in README.md's table and in deploy/example.env."""

import re
from pathlib import Path

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented():
    readme = (ROOT / "README.md").read_text()
    example = (ROOT / "deploy" / "example.env").read_text()
    names = [name.upper() for name in Settings.model_fields]
    assert [n for n in names if f"`{n}`" not in readme] == [], "missing from README.md's settings table"
    assert [n for n in names if not re.search(rf"^(# ?)?{n}=", example, re.M)] == [], "missing from deploy/example.env"


def test_slack_admin_ids_must_be_slack_user_ids():
    import pytest
    from pydantic import ValidationError

    assert Settings(slack_admin_user_ids=" U012AB3CD, W045EF6GH ,").slack_admins == {"U012AB3CD", "W045EF6GH"}
    with pytest.raises(ValidationError, match="SLACK_ADMIN_USER_IDS"):
        Settings(slack_admin_user_ids="U012AB3CD U045EF6GH")  # a space instead of a comma
