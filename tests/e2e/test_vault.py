"""The credential vault and the store: `causeway generate-key`, no start without a key,
credentials sealed at rest."""

from __future__ import annotations

import stat
import subprocess

from harness.causeway import Bridge
from harness.sms_gateway import ALICE_SUB

START_TIMEOUT = 15.0


def test_generate_key_writes_a_private_file_and_never_overwrites(causeway_files):
    causeway = causeway_files([])
    path = causeway.workdir / "new.key"

    result = causeway.generate_key(path)
    assert result.returncode == 0, f"generate-key failed: {result.stdout}{result.stderr}"
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode == 0o600, f"the key file has mode {mode:o}, not 600"
    key = path.read_text().strip()
    assert len(key) >= 32, f"a short key: {key!r}"

    again = causeway.generate_key(path)
    assert again.returncode != 0, "generate-key overwrote an existing key"
    assert path.read_text().strip() == key, "the existing key was changed"

    other = causeway.workdir / "other.key"
    assert causeway.generate_key(other).returncode == 0
    assert other.read_text().strip() != key, "two keys came out the same"


def test_daemon_refuses_to_start_without_its_vault_key(causeway_files):
    causeway = causeway_files([Bridge("gw1", "gw1.localhost", "s3cret-one")])
    assert not causeway.vault_key_path.exists()
    # Run the binary directly: Causeway.start() would make the key first.
    result = subprocess.run(
        [str(causeway.binary), "run", "--config", str(causeway.config_path)],
        cwd=causeway.workdir, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=START_TIMEOUT,
    )
    assert result.returncode != 0, f"causeway ran without a vault key:\n{result.stdout}\n{result.stderr}"
    assert "key" in result.stderr.lower(), f"the refusal does not mention the key:\n{result.stderr}"


def test_token_is_sealed_at_rest(sms_gateway, connect_client):
    gw = sms_gateway()
    alice = connect_client(gw.prosody)
    gw.register(alice, ALICE_SUB).expect_result("registration")
    gw.causeway.stop()  # checkpoint and close the database

    files = sorted(gw.causeway.workdir.glob(gw.causeway.store_path.name + "*"))
    assert files, f"no store at {gw.causeway.store_path}"
    everything = b"".join(path.read_bytes() for path in files)
    assert ALICE_SUB.number.encode() in everything, "the store does not seem to hold the registration at all"
    assert ALICE_SUB.token.encode() not in everything, f"the carrier token is stored in clear in {[p.name for p in files]}"
