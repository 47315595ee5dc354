"""On-air sizes against the firmware's envelope, encoded by the real Meshtastic protobufs."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from meshtastic.protobuf import mesh_pb2

from node.lora import MAX_APP_PAYLOAD, MAX_LORA_PAYLOAD, MESHTASTIC_HEADER, data_envelope_bytes, onair_bytes


def firmware_data(payload: bytes, portnum: int) -> mesh_pb2.Data:
    data = mesh_pb2.Data(portnum=portnum, payload=payload)
    data.bitfield = 1  # Router::perhapsEncode: has_bitfield is always set on originated packets
    return data


@given(st.integers(0, MAX_APP_PAYLOAD), st.sampled_from([1, 67, 70, 256, 300, 511]))
def test_envelope_matches_the_protobuf_encoding(length: int, portnum: int) -> None:
    data = firmware_data(b"\xa5" * length, portnum)
    assert data_envelope_bytes(length, portnum) == len(data.SerializeToString())


def test_a_full_private_app_payload_is_255_bytes_on_air() -> None:
    assert onair_bytes(MAX_APP_PAYLOAD) == MAX_LORA_PAYLOAD == 255
    assert onair_bytes(20) == MESHTASTIC_HEADER + 3 + 2 + 20 + 2


def test_a_payload_over_the_firmware_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="over the 255-byte LoRa limit"):
        onair_bytes(MAX_APP_PAYLOAD + 1)
    assert onair_bytes(232, portnum=1) == 255  # TEXT's one-byte portnum leaves room for 232


def test_firmware_2_8_signs_only_broadcasts_whose_data_still_fits():
    from node.lora import XEDDSA_SIGNATURE_FIELD, onair_bytes

    assert onair_bytes(20, signed_broadcast=True) == onair_bytes(20) + XEDDSA_SIGNATURE_FIELD
    assert onair_bytes(165, signed_broadcast=True) == 255  # the largest payload that is still signed
    assert onair_bytes(166, signed_broadcast=True) == onair_bytes(166)
    assert onair_bytes(231, signed_broadcast=True) == 255
