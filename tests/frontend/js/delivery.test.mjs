// Unit tests for frontend/static/frontend/delivery.js, run by `node --test` (from
// tests/frontend/test_scripts.py, and so from bin/test).
import assert from "node:assert/strict";
import { test } from "node:test";

import { Outbox, SeqTracker } from "../../../frontend/static/frontend/delivery.js";

function tracker(onScreen = []) {
  const shown = new Set(onScreen);
  return { shown, seqs: new SeqTracker((seq) => shown.has(seq)) };
}

test("the first welcome sets the start; a later one asks to resume", () => {
  const { seqs } = tracker();
  assert.equal(seqs.resumeFrom(), null); // not joined yet: nothing to resume from
  assert.equal(seqs.welcome(120), false);
  assert.equal(seqs.caughtUpTo, 120);
  assert.equal(seqs.firstHead, 120);
  assert.equal(seqs.welcome(130), true);
  assert.equal(seqs.caughtUpTo, 120); // the reconnect does not skip what was missed
  assert.equal(seqs.firstHead, 120);
});

test("contiguous live messages advance; a gap asks for a resume from before it", () => {
  const { shown, seqs } = tracker();
  seqs.welcome(10);
  shown.add(11);
  assert.equal(seqs.liveMessage(11), false);
  assert.equal(seqs.caughtUpTo, 11);
  shown.add(13); // 12 was lost
  assert.equal(seqs.liveMessage(13), true);
  assert.equal(seqs.caughtUpTo, 11);
  assert.equal(seqs.resumeFrom(), 11);
});

test("one resume at a time, and a new one once it ends or the socket closes", () => {
  const { seqs } = tracker();
  seqs.welcome(5);
  assert.equal(seqs.resumeFrom(), 5);
  seqs.resumeSent(true);
  assert.equal(seqs.resumeFrom(), null);
  seqs.resumeEnded();
  assert.equal(seqs.resumeFrom(), 5);
  seqs.resumeSent(false); // offline: the frame did not go out
  assert.equal(seqs.resumeFrom(), 5);
});

test("a replay moves to its end and past what was already shown", () => {
  const { shown, seqs } = tracker();
  seqs.welcome(10);
  seqs.resumeSent(true);
  shown.add(21);
  shown.add(22);
  assert.equal(seqs.resumed(20, false, 22), false);
  assert.equal(seqs.caughtUpTo, 22);
  assert.equal(seqs.resumeFrom(), 22);
});

test("a replay cut at its page size, or behind the head, asks again", () => {
  const { seqs } = tracker();
  seqs.welcome(0);
  assert.equal(seqs.resumed(200, true, 500), true);
  assert.equal(seqs.resumed(300, false, 500), true);
  assert.equal(seqs.resumed(500, false, 500), false);
  assert.equal(seqs.resumed(400, false, 500), false); // an old answer never moves it back
  assert.equal(seqs.caughtUpTo, 500);
});

test("a heartbeat ahead of the page means a broadcast was lost", () => {
  const { seqs } = tracker();
  assert.equal(seqs.heartbeat(3), false); // before the first welcome
  seqs.welcome(3);
  assert.equal(seqs.heartbeat(3), false);
  assert.equal(seqs.heartbeat(4), true);
});

function memoryStorage(initial = {}) {
  const data = new Map(Object.entries(initial));
  return { data, getItem: (key) => data.get(key) ?? null, setItem: (key, value) => data.set(key, value) };
}

test("the outbox keeps sends until they are settled, across a reload", () => {
  const storage = memoryStorage();
  const outbox = new Outbox("hearth:outbox:lounge", storage);
  outbox.add("a1", "first");
  outbox.add("b2", "second");
  const reloaded = new Outbox("hearth:outbox:lounge", storage);
  assert.deepEqual([...reloaded], [["a1", "first"], ["b2", "second"]]);
  assert.equal(reloaded.settle("a1"), true);
  assert.equal(reloaded.settle("a1"), false);
  assert.deepEqual([...new Outbox("hearth:outbox:lounge", storage)], [["b2", "second"]]);
  assert.equal(reloaded.get("b2"), "second");
  assert.equal(reloaded.has("a1"), false);
});

test("unreadable or tampered storage loses nothing it can read and never throws", () => {
  for (const stored of ["not json", "{}", "[1, 2]", '[["ok", "kept"], ["bad"], [3, "x"]]', "null"]) {
    const outbox = new Outbox("k", memoryStorage({ k: stored }));
    const kept = [...outbox];
    assert.ok(kept.every(([id, body]) => typeof id === "string" && typeof body === "string"));
  }
  assert.deepEqual([...new Outbox("k", memoryStorage({ k: '[["ok", "kept"], ["bad"]]' }))],
    [["ok", "kept"]]);
});

test("storage that refuses writes keeps the outbox in memory", () => {
  const refusing = { getItem: () => null, setItem: () => { throw new Error("QuotaExceededError"); } };
  const outbox = new Outbox("k", refusing);
  outbox.add("a1", "still here");
  assert.equal(outbox.get("a1"), "still here");
  assert.equal(outbox.settle("a1"), true);
});
