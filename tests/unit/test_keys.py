"""Root keys, HKDF subkeys per purpose, key ids on stored hashes and rotation (issue 13 §2)."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.platform import keys
from core.platform.codes import Keyring, SealError, UnknownKey, key_id
from core.platform.keys import KeyFormatError, RootKey

K1 = RootKey("k1", b"1" * 32)
K2 = RootKey("k2", b"2" * 32)
PURPOSES = ("otp", "voucher", "qr", "paylink", "pos-terminal", "console-session-cookie")


def test_a_key_file_reads_back_what_was_written() -> None:
    made = keys.rotated((keys.new_key(1),))
    assert [k.kid for k in made] == ["k1", "k2"]
    assert keys.parse(keys.render(made)) == made
    assert keys.parse("# the hall's keys\n" + keys.render(made).replace("\n", " , ")) == made


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# nothing",
        "k1",
        "k1:!!!",
        "x1:" + "A" * 43,
        "k1:" + "A" * 10,  # not 32 bytes
        "k0:AAAA",  # a legacy key shorter than 16 bytes
        "k1:" + "A" * 43 + "\nk1:" + "B" * 43,  # the same id twice
    ],
)
def test_anything_but_keys_is_refused_without_showing_key_bytes(text: str) -> None:
    with pytest.raises(KeyFormatError) as refused:
        keys.parse(text)
    assert "A" * 10 not in str(refused.value) and "B" * 10 not in str(refused.value)


def test_subkeys_are_hkdf_of_the_root_key_and_distinct_per_purpose_and_key() -> None:
    ring = Keyring([K1, K2])
    derived = {(kid, p): ring.subkey(p, kid) for kid in ("k1", "k2") for p in PURPOSES}
    assert len(set(derived.values())) == len(derived)
    assert all(len(v) == 32 for v in derived.values())
    expected = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"pointshall/voucher"
    ).derive(K2.secret)
    assert ring.subkey("voucher") == expected  # k2 is current
    assert K2.secret not in derived.values()


def test_a_stored_hash_names_its_key_and_is_64_characters() -> None:
    stored = Keyring([K1, K2]).digest("voucher", "261120000001", "12345678")
    assert stored.startswith("k2$") and len(stored) == 64 and key_id(stored) == "k2"


def test_after_a_rotation_new_hashes_use_the_new_key_and_old_ones_still_verify() -> None:
    before = Keyring([K1])
    old = before.digest("otp", "261120000001", "123456")
    after = Keyring([K1, K2])
    new = after.digest("otp", "261120000001", "123456")
    assert key_id(old) == "k1" and key_id(new) == "k2" and old != new
    assert after.matches(old, "otp", "261120000001", "123456")
    assert after.matches(new, "otp", "261120000001", "123456")
    assert not after.matches(old, "otp", "261120000001", "654321")
    assert not after.matches(old, "voucher", "261120000001", "123456")  # another purpose
    assert old in after.digests("otp", "261120000001", "123456")  # found by lookup
    assert not Keyring([K2]).matches(old, "otp", "261120000001", "123456")  # k1 retired


def test_k0_verifies_what_the_key_from_before_key_ids_made() -> None:
    raw = bytes.fromhex("ab" * 32)
    made_before = hmac.new(raw, b"qr\x1ftoken", hashlib.sha256).hexdigest()
    ring = Keyring([keys.legacy(raw), K1])
    assert ring.matches(made_before, "qr", "token")
    assert made_before in ring.digests("qr", "token")
    assert ring.current_id == "k1" and key_id(ring.digest("qr", "token")) == "k1"
    before_terminal = hmac.new(raw, b"pos-terminal\x1fT1\x1f2", hashlib.sha256)
    assert ring.mac("pos-terminal", "T1", "2", kid="k0") == before_terminal.hexdigest()
    with pytest.raises(ValueError, match="current key"):
        Keyring([keys.legacy(raw)])


def test_macs_verify_under_any_key_held() -> None:
    token = Keyring([K1]).mac("paylink", "261120000001")[:16]
    assert Keyring([K1, K2]).mac_matches(token, "paylink", "261120000001", chars=16)
    assert not Keyring([K2]).mac_matches(token, "paylink", "261120000001", chars=16)
    assert not Keyring([K1]).mac_matches(token[:15], "paylink", "261120000001", chars=16)
    assert not Keyring([K1]).mac_matches("\udcff" * 16, "paylink", "261120000001", chars=16)
    with pytest.raises(UnknownKey):
        Keyring([K2]).mac("pos-terminal", "T1", "1", kid="k1")


def test_sealed_values_open_only_with_their_key_and_unaltered() -> None:
    sealed = Keyring([K1]).seal("outbox", "验证码123456")
    assert "123456" not in sealed and sealed.startswith("k1$")
    assert Keyring([K1, K2]).unseal("outbox", sealed) == "验证码123456"
    for bad in (
        sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1],
        "k1$notbase64!",
        "plain text",
    ):
        with pytest.raises(SealError):
            Keyring([K1]).unseal("outbox", bad)
    with pytest.raises(SealError):
        Keyring([K2]).unseal("outbox", sealed)  # k1 retired
    with pytest.raises(SealError):
        Keyring([K1]).unseal("other-purpose", sealed)
