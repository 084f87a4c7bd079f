//! `jobs.events(id?)`: the events of every job, or of one, as an async
//! iterator (`for await (const event of jobs.events(id)) ...`).
//!
//! Each iterator is a small JavaScript object (`EventStream`) that queues the
//! events nobody has read yet. The queue is bounded: past its limit the oldest
//! event is dropped, the iterator's `dropped` counts it, and the next event read
//! carries `dropped`, the number lost just before it. An iterator nobody reads
//! therefore holds at most its limit of events. Leaving the loop (`break`,
//! `return()`) unsubscribes it; the iterator of one job ends after that job's
//! outcome, once its queued events are read.

use wasm_bindgen::prelude::*;

/// Events an iterator keeps unread before it drops the oldest, by default.
pub(crate) const DEFAULT_LIMIT: u32 = 1024;

#[wasm_bindgen(inline_js = r#"
export class EventStream {
  constructor(limit) {
    this._limit = Math.max(1, limit);
    this._queue = [];
    this._gap = 0;
    this._readers = [];
    this._ending = false;
    this._closed = false;
    this.dropped = 0;
  }
  _push(event) {
    if (this._closed || this._ending) return false;
    const reader = this._readers.shift();
    if (reader) {
      reader({ value: event, done: false });
      return true;
    }
    if (this._queue.length >= this._limit) {
      const lost = this._queue.shift();
      const gap = lost.gap + 1;
      this.dropped += 1;
      if (this._queue.length > 0) this._queue[0].gap += gap;
      else this._gap += gap;
    }
    this._queue.push({ event, gap: this._gap });
    this._gap = 0;
    return true;
  }
  _end() {
    this._ending = true;
    if (this._queue.length === 0) this._close();
  }
  _close() {
    this._closed = true;
    this._queue = [];
    for (const reader of this._readers.splice(0)) reader({ value: undefined, done: true });
  }
  next() {
    const head = this._queue.shift();
    if (head) {
      if (this._ending && this._queue.length === 0) this._closed = true;
      const value = head.gap > 0 ? { ...head.event, dropped: head.gap } : head.event;
      return Promise.resolve({ value, done: false });
    }
    if (this._closed || this._ending) {
      this._closed = true;
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve) => this._readers.push(resolve));
  }
  return(value) {
    this._close();
    return Promise.resolve({ value, done: true });
  }
  [Symbol.asyncIterator]() {
    return this;
  }
}
"#)]
extern "C" {
    /// One iterator of events, as JavaScript holds it.
    #[derive(Clone, Debug)]
    pub(crate) type EventStream;
    #[wasm_bindgen(constructor)]
    fn new(limit: u32) -> EventStream;
    /// Queues `event` (or hands it to a waiting reader); false once the
    /// iterator is closed, when it wants nothing more.
    #[wasm_bindgen(method, js_name = _push)]
    fn push(this: &EventStream, event: &JsValue) -> bool;
    /// Ends the iterator once its queued events are read.
    #[wasm_bindgen(method, js_name = _end)]
    fn end(this: &EventStream);
}

/// One iterator and the job it follows (`None`: every job).
struct Tap {
    id: Option<u32>,
    stream: EventStream,
}

/// The open iterators of one set of jobs. Dropping it (the jobs freed) ends
/// them all.
#[derive(Default)]
pub(crate) struct Taps {
    taps: Vec<Tap>,
}

impl Taps {
    /// A new iterator of the events of job `id`, or of every job; it keeps at
    /// most `limit` unread events. `running` tells whether job `id` runs: the
    /// iterator of a job that does not run ends at once.
    pub(crate) fn open(&mut self, id: Option<u32>, limit: u32, running: bool) -> EventStream {
        let stream = EventStream::new(limit);
        if id.is_some() && !running {
            stream.end();
        } else {
            self.taps.push(Tap {
                id,
                stream: stream.clone(),
            });
        }
        stream
    }

    /// Whether an iterator wants the events of job `id`.
    pub(crate) fn wants(&self, id: u32) -> bool {
        self.taps
            .iter()
            .any(|tap| tap.id.is_none_or(|tap| tap == id))
    }

    /// Hands an event of job `id` to the iterators that want it, and forgets
    /// the iterators closed meanwhile.
    pub(crate) fn push(&mut self, id: u32, event: &JsValue) {
        self.taps.retain(|tap| {
            let other_job = tap.id.is_some_and(|tap| tap != id);
            other_job || tap.stream.push(event)
        });
    }

    /// Job `id` has its outcome: its iterators end after their queued events.
    pub(crate) fn finish(&mut self, id: u32) {
        self.taps.retain(|tap| {
            if tap.id == Some(id) {
                tap.stream.end();
                false
            } else {
                true
            }
        });
    }
}

impl Drop for Taps {
    fn drop(&mut self) {
        for tap in &self.taps {
            tap.stream.end();
        }
    }
}
