// @ts-check
// What the room page knows about delivery, kept apart from the page so it can be tested on
// its own (tests/frontend/js/, `node --test`) and checked by the TypeScript compiler: the seq
// it has everything up to, when a gap or a heartbeat means a broadcast was lost, and the
// sends the server has not acknowledged yet (docs/protocol.md, "resume" and "ack").

export class SeqTracker {
  /** @param {(seq: number) => boolean} has whether the message with this seq is on screen */
  constructor(has) {
    this.has = has;
    /** Every seq up to this is on screen or no longer exists; null before the first welcome.
     * @type {number | null} */
    this.caughtUpTo = null;
    /** The head of the first welcome: the recent history is below it.
     * @type {number | null} */
    this.firstHead = null;
    this.resumeInFlight = false;
  }

  /** A welcome: the first sets where the page starts; after a reconnect, say to resume.
   * @param {number} headSeq
   * @returns {boolean} whether to ask for what was missed */
  welcome(headSeq) {
    if (this.caughtUpTo === null) {
      this.caughtUpTo = headSeq;
      this.firstHead = headSeq;
      return false;
    }
    return true;
  }

  /** Moves caughtUpTo over every seq now on screen. */
  advance() {
    if (this.caughtUpTo === null) return;
    while (this.has(this.caughtUpTo + 1)) this.caughtUpTo += 1;
  }

  /** A live message just shown.
   * @param {number} seq
   * @returns {boolean} whether a broadcast before it went missing */
  liveMessage(seq) {
    if (this.caughtUpTo === null) return false;
    const gap = seq > this.caughtUpTo + 1;
    this.advance();
    return gap;
  }

  /** Where a resume should start, or null when one is on its way or the page has not
   * joined yet. The caller sends it and then calls resumeSent().
   * @returns {number | null} */
  resumeFrom() {
    return this.resumeInFlight ? null : this.caughtUpTo;
  }

  /** @param {boolean} sent whether the resume frame went out */
  resumeSent(sent) {
    this.resumeInFlight = sent;
  }

  /** The end of a replay.
   * @param {number} throughSeq every seq up to it has been sent or no longer exists
   * @param {boolean} hasMore the replay was cut at its page size
   * @param {number} headSeq
   * @returns {boolean} whether to resume again */
  resumed(throughSeq, hasMore, headSeq) {
    this.resumeInFlight = false;
    this.caughtUpTo = Math.max(this.caughtUpTo ?? throughSeq, throughSeq);
    this.advance();
    return hasMore || headSeq > this.caughtUpTo;
  }

  /** @param {number} headSeq @returns {boolean} whether a broadcast was lost */
  heartbeat(headSeq) {
    return this.caughtUpTo !== null && headSeq > this.caughtUpTo;
  }

  /** The connection closed or a refusal ended the resume: the next one may go out. */
  resumeEnded() {
    this.resumeInFlight = false;
  }
}

/** Sends not yet acknowledged, client_id -> body, kept in the tab's storage so a reload sends
 * them again (the server answers a retry with `duplicate: true`). */
export class Outbox {
  /** @param {string} key @param {Pick<Storage, "getItem" | "setItem">} storage */
  constructor(key, storage) {
    this.key = key;
    this.storage = storage;
    /** @type {Map<string, string>} */
    this.items = new Map(this.load());
  }

  /** @returns {[string, string][]} */
  load() {
    try {
      const stored = JSON.parse(this.storage.getItem(this.key) || "[]");
      return Array.isArray(stored)
        ? stored.filter((item) => Array.isArray(item) && item.length === 2
          && typeof item[0] === "string" && typeof item[1] === "string")
        : [];
    } catch {
      return []; // unreadable: nothing to resend
    }
  }

  save() {
    try {
      this.storage.setItem(this.key, JSON.stringify([...this.items]));
    } catch { /* private mode or full: kept in memory for this page */ }
  }

  /** @param {string} clientId @param {string} body */
  add(clientId, body) {
    this.items.set(clientId, body);
    this.save();
  }

  /** @param {string} clientId @returns {boolean} whether it was waiting */
  settle(clientId) {
    const had = this.items.delete(clientId);
    if (had) this.save();
    return had;
  }

  /** @param {string} clientId */
  has(clientId) {
    return this.items.has(clientId);
  }

  /** @param {string} clientId @returns {string | undefined} */
  get(clientId) {
    return this.items.get(clientId);
  }

  /** Oldest first, as they were typed. */
  [Symbol.iterator]() {
    return this.items[Symbol.iterator]();
  }
}
