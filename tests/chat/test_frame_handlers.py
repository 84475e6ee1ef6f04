"""The room socket's dispatch table (chat/consumers.py): every client frame the parser can
return has exactly one handler and one rate bucket."""

from typing import get_args

from chat.consumers import ROOM_FRAME_HANDLERS, Bucket, RoomConsumer
from chat.protocol import (
    AsideSendFrame,
    ClientFrame,
    HistoryFrame,
    ReactFrame,
    SendFrame,
)


def test_every_parsed_client_frame_has_a_handler():
    assert set(ROOM_FRAME_HANDLERS) == set(get_args(ClientFrame))


def test_every_handler_is_a_method_of_the_room_socket():
    for bucket, handler in ROOM_FRAME_HANDLERS.values():
        assert isinstance(bucket, Bucket)
        assert getattr(RoomConsumer, handler.__name__) is handler


def test_posts_and_reactions_spend_from_their_own_buckets_and_reads_from_the_read_bucket():
    assert ROOM_FRAME_HANDLERS[SendFrame][0] is Bucket.SEND
    assert ROOM_FRAME_HANDLERS[AsideSendFrame][0] is Bucket.SEND
    assert ROOM_FRAME_HANDLERS[ReactFrame][0] is Bucket.REACT
    assert ROOM_FRAME_HANDLERS[HistoryFrame][0] is Bucket.READ
    assert [frame for frame, (bucket, _) in ROOM_FRAME_HANDLERS.items()
            if bucket is not Bucket.READ] == [SendFrame, AsideSendFrame, ReactFrame]
