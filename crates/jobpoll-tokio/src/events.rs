//! The event stream of one job: a bounded queue that sheds progress reports, never
//! anything else, when its reader falls behind.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use jobpoll_core::Event;

/// How many events a stream holds before it starts dropping progress reports, unless
/// [`ClientBuilder::event_capacity`](crate::ClientBuilder::event_capacity) says
/// otherwise.
pub const DEFAULT_EVENT_CAPACITY: usize = 64;

/// The events of one job, in the order the job emitted them, as a
/// [`futures_core::Stream`]. It ends once the job has finished and every event was
/// read.
///
/// # Events before the outcome
///
/// The job's last event is queued before its task ends, so the
/// [`JobHandle`](crate::JobHandle) may resolve while events are still queued here.
/// To show every event and then the outcome, read the stream until it ends, then
/// await the handle (it is ready by then). A `select!` that awaits the handle beside
/// the stream can see the outcome first and lose the last events (often the final
/// status change).
///
/// # A slow reader
///
/// The job never waits for its reader: the stream buffers events. When the buffer
/// holds its capacity, the oldest [`Event::Progress`] in it is dropped to make room
/// (or the new progress report itself, when the buffer holds no progress), so a
/// reader that falls behind loses intermediate progress reports but sees the latest.
/// Every other event (status changes, retries, hints, updates, results, cancel) is
/// always delivered, even past the capacity; a job emits only a few of those per
/// request, so memory stays small. [`EventStream::dropped_progress`] counts what was
/// dropped.
///
/// Dropping the stream discards the events still buffered and every later one; the
/// job runs on.
#[derive(Debug)]
pub struct EventStream {
    shared: Option<Arc<Shared>>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    queue: VecDeque<Event>,
    capacity: usize,
    /// The job is over: no more events will come.
    closed: bool,
    /// Nobody will read: discard events.
    discarding: bool,
    waker: Option<Waker>,
    dropped_progress: u64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the queue inconsistent (every
        // change is one VecDeque call), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The driver's end of the queue.
#[derive(Debug)]
pub(crate) struct EventSink {
    shared: Arc<Shared>,
}

/// A connected sink and stream. A stream that is `discarding` from the start (for
/// the one-call API, where nobody reads events) keeps nothing.
pub(crate) fn channel(capacity: usize, discarding: bool) -> (EventSink, EventStream) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            capacity: capacity.max(1),
            closed: false,
            discarding,
            waker: None,
            dropped_progress: 0,
        }),
    });
    (
        EventSink {
            shared: Arc::clone(&shared),
        },
        EventStream {
            shared: Some(shared),
        },
    )
}

fn is_progress(event: &Event) -> bool {
    matches!(event, Event::Progress(_))
}

impl EventSink {
    /// Queues `event` following the rules on [`EventStream`]. Never waits.
    pub(crate) fn push(&self, event: Event) {
        let waker = {
            let mut state = self.shared.lock();
            if state.discarding {
                return;
            }
            if state.queue.len() >= state.capacity {
                match state.queue.iter().position(is_progress) {
                    Some(oldest) => {
                        state.queue.remove(oldest);
                        state.dropped_progress += 1;
                    }
                    None if is_progress(&event) => {
                        state.dropped_progress += 1;
                        return;
                    }
                    None => {}
                }
            }
            state.queue.push_back(event);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Whether anybody may still read the events.
    #[cfg(test)]
    fn is_read(&self) -> bool {
        !self.shared.lock().discarding
    }
}

impl Drop for EventSink {
    fn drop(&mut self) {
        let waker = {
            let mut state = self.shared.lock();
            state.closed = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl EventStream {
    /// A stream that has already ended.
    pub(crate) fn ended() -> EventStream {
        EventStream { shared: None }
    }

    /// The next event, or `None` once the job has finished and every event was read.
    pub async fn recv(&mut self) -> Option<Event> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    /// How many progress reports were dropped because the reader fell behind.
    pub fn dropped_progress(&self) -> u64 {
        self.shared
            .as_ref()
            .map_or(0, |shared| shared.lock().dropped_progress)
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let Some(shared) = &self.shared else {
            return Poll::Ready(None);
        };
        let mut state = shared.lock();
        if let Some(event) = state.queue.pop_front() {
            return Poll::Ready(Some(event));
        }
        if state.closed {
            return Poll::Ready(None);
        }
        match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            waker => *waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl futures_core::Stream for EventStream {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.get_mut().poll_event(cx)
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            let mut state = shared.lock();
            state.discarding = true;
            state.queue.clear();
            state.waker = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use core::time::Duration;

    use jobpoll_core::{Event, Progress};

    use super::*;

    fn progress(attempt: u32) -> Event {
        Event::Progress(Progress {
            attempt,
            max_attempts: None,
            status: "processing".to_owned(),
            percentage: None,
            step: None,
            next_poll_in: Duration::from_millis(50),
            elapsed: Duration::ZERO,
            eta: None,
        })
    }

    fn status(to: &str) -> Event {
        Event::StatusChanged {
            from: None,
            to: to.to_owned(),
        }
    }

    fn drain(stream: &mut EventStream) -> Vec<Event> {
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut out = Vec::new();
        while let Poll::Ready(Some(event)) = stream.poll_event(&mut cx) {
            out.push(event);
        }
        out
    }

    #[test]
    fn a_slow_reader_loses_old_progress_only() {
        let (sink, mut stream) = channel(3, false);
        sink.push(status("queued"));
        for attempt in 1..=5 {
            sink.push(progress(attempt));
        }
        sink.push(status("processing"));
        sink.push(progress(6));
        // The newest progress is kept, the older ones made room.
        assert_eq!(
            drain(&mut stream),
            vec![status("queued"), status("processing"), progress(6)]
        );
        assert_eq!(stream.dropped_progress(), 5);
        for attempt in 7..=9 {
            sink.push(progress(attempt));
        }
        sink.push(status("a"));
        sink.push(status("b"));
        sink.push(status("c"));
        sink.push(status("d"));
        drop(sink);
        // Other events are never dropped, even past the capacity.
        assert_eq!(
            drain(&mut stream),
            vec![status("a"), status("b"), status("c"), status("d")]
        );
        assert_eq!(stream.dropped_progress(), 8);
    }

    #[test]
    fn a_full_queue_of_other_events_drops_new_progress() {
        let (sink, mut stream) = channel(2, false);
        sink.push(status("a"));
        sink.push(status("b"));
        sink.push(progress(1));
        sink.push(status("c"));
        assert_eq!(
            drain(&mut stream),
            vec![status("a"), status("b"), status("c")]
        );
        assert_eq!(stream.dropped_progress(), 1);
    }

    #[test]
    fn the_stream_ends_after_the_last_event_once_closed() {
        let (sink, mut stream) = channel(4, false);
        sink.push(status("a"));
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert_eq!(stream.poll_event(&mut cx), Poll::Ready(Some(status("a"))));
        assert_eq!(stream.poll_event(&mut cx), Poll::Pending);
        drop(sink);
        assert_eq!(stream.poll_event(&mut cx), Poll::Ready(None));
    }

    #[test]
    fn a_dropped_stream_discards() {
        let (sink, stream) = channel(4, false);
        assert!(sink.is_read());
        drop(stream);
        assert!(!sink.is_read());
        sink.push(status("a"));
        let (sink, _stream) = channel(4, true);
        sink.push(status("a"));
        assert!(!sink.is_read());
    }
}
