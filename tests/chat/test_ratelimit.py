from chat.ratelimit import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_steady_rate():
    clock = FakeClock()
    bucket = TokenBucket(burst=5, per_second=1.0, clock=clock)
    assert [bucket.take() for _ in range(5)] == [0.0] * 5
    assert bucket.take() == 1.0
    clock.now += 0.5
    assert bucket.take() == 0.5
    clock.now += 0.5
    assert bucket.take() == 0.0


def test_refill_never_exceeds_burst():
    clock = FakeClock()
    bucket = TokenBucket(burst=2, per_second=10.0, clock=clock)
    clock.now += 3600
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.1]
