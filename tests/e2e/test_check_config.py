"""`causeway check-config`: exit 0 on a good config, else FILE:LINE: messages on stderr."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from harness.causeway import Bridge, sms_bridge

GW1 = Bridge("gw1", "gw1.localhost", "s3cret-one", display_name="Gateway one")
GW2 = Bridge("gw2", "gw2.localhost", "s3cret-two")

# `FILE:LINE:` at the start of a word; FILE may be absolute or relative to the cwd.
LOCATION = re.compile(r"(?<!\S)(\S+?):(\d+):")


def line_of(text: str, needle: str) -> int:
    """1-based number of the line of `text` that contains `needle`."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise ValueError(f"{needle!r} not in text")


def assert_reports_location(result: subprocess.CompletedProcess, cwd: Path, path: Path, line: int) -> None:
    """stderr has a `FILE:LINE:` naming this very file (however spelt) at this line."""
    assert result.returncode != 0, f"check-config accepted a bad config:\nstdout: {result.stdout}\nstderr: {result.stderr}"
    seen = []
    for match in LOCATION.finditer(result.stderr):
        named, number = cwd / match.group(1), int(match.group(2))
        seen.append((match.group(1), number))
        if named.exists() and os.path.samefile(named, path) and number == line:
            return
    raise AssertionError(f"expected `{path}:{line}:` in stderr; found locations {seen}\nstderr:\n{result.stderr}")


def test_good_config_passes(causeway_files):
    causeway = causeway_files([GW1, GW2])
    result = causeway.check_config()
    assert result.returncode == 0, f"check-config rejected a good config:\nstdout: {result.stdout}\nstderr: {result.stderr}"


def test_unknown_key_in_bridge_names_file_and_line(causeway_files):
    causeway = causeway_files([GW1, GW2])
    path = causeway.bridge_path(GW2.name)
    # The misspelt key goes in the middle of the file, so the line number means something.
    lines = GW2.toml().splitlines()
    lines.insert(2, 'secrte = "x"')
    text = "\n".join(lines) + "\n"
    path.write_text(text)

    result = causeway.check_config()
    assert_reports_location(result, causeway.workdir, path, line_of(text, "secrte"))


def test_wrong_type_in_daemon_config_names_file_and_line(causeway_files):
    causeway = causeway_files([GW1])
    text = re.sub(r"^component_port = \d+$", 'component_port = "5347"', causeway.config_text(), flags=re.M)
    assert '"5347"' in text
    causeway.config_path.write_text(text)

    result = causeway.check_config()
    assert_reports_location(result, causeway.workdir, causeway.config_path, line_of(text, "component_port"))


SMS = sms_bridge("sms", "sms.localhost", "s3cret-sms", "http://127.0.0.1:9999", "whsec-check", display_name="SMS")


def test_good_sms_bridge_passes(causeway_files):
    causeway = causeway_files([GW1, SMS])
    result = causeway.check_config()
    assert result.returncode == 0, f"check-config rejected a good SMS bridge:\nstdout: {result.stdout}\nstderr: {result.stderr}"


def test_sms_bridge_without_webhook_secret_names_the_carrier_table(causeway_files):
    causeway = causeway_files([GW1, SMS])
    path = causeway.bridge_path(SMS.name)
    text = "\n".join(line for line in SMS.toml().splitlines() if not line.startswith("webhook_secret")) + "\n"
    assert "webhook_secret" not in text and "[carrier]" in text
    path.write_text(text)

    result = causeway.check_config()
    # The key is missing, so the message names the table that lacks it.
    assert_reports_location(result, causeway.workdir, path, line_of(text, "[carrier]"))
    assert "webhook_secret" in result.stderr, f"the message does not name the missing key:\n{result.stderr}"


@pytest.mark.parametrize("country_code", ["+1", "1x", "12345", ""])
def test_sms_bridge_with_bad_country_code_names_file_and_line(causeway_files, country_code):
    causeway = causeway_files([SMS])
    path = causeway.bridge_path(SMS.name)
    text = SMS.toml().replace('default_country_code = "1"', f"default_country_code = {json.dumps(country_code)}")
    assert f"default_country_code = {json.dumps(country_code)}" in text
    path.write_text(text)

    result = causeway.check_config()
    assert_reports_location(result, causeway.workdir, path, line_of(text, "default_country_code"))
    assert "default_country_code" in result.stderr, f"the message does not name the key:\n{result.stderr}"
