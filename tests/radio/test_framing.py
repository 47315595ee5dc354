"""The stream framing: markers, lengths, garbage and resync."""

from simulator.virtual_radio.framing import FrameDecoder, encode_frame


def test_round_trip_of_several_frames_in_one_read():
    decoder = FrameDecoder()
    data = encode_frame(b"one") + encode_frame(b"") + encode_frame(b"three")
    assert decoder.feed(data) == [b"one", b"", b"three"]


def test_wake_bytes_and_garbage_before_a_frame_are_skipped():
    decoder = FrameDecoder()
    assert decoder.feed(b"\xc3" * 32 + b"log line\n" + encode_frame(b"payload")) == [b"payload"]
    assert decoder.skipped_bytes == 32 + len(b"log line\n")


def test_frame_split_across_reads():
    decoder = FrameDecoder()
    frame = encode_frame(b"x" * 300)
    assert decoder.feed(frame[:1]) == []
    assert decoder.feed(frame[1:3]) == []
    assert decoder.feed(frame[3:200]) == []
    assert decoder.feed(frame[200:]) == [b"x" * 300]


def test_oversized_length_resyncs_to_the_next_marker():
    decoder = FrameDecoder()
    corrupt = bytes((0x94, 0xC3, 0x02, 0x01))  # claims 513 bytes
    assert decoder.feed(corrupt + encode_frame(b"good")) == [b"good"]


def test_start1_without_start2_is_noise():
    decoder = FrameDecoder()
    assert decoder.feed(b"\x94\x00\x94" + encode_frame(b"ok")) == [b"ok"]


def test_encode_refuses_frames_over_512_bytes():
    import pytest

    with pytest.raises(ValueError):
        encode_frame(b"x" * 513)
