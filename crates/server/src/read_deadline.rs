//! A request body that must arrive by a deadline. Once a caller's token is
//! verified it takes an in-flight slot; a body trickled a byte at a time
//! would otherwise hold that slot for as long as the caller likes.

use std::{
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use axum::body::{Body, Bytes, HttpBody};
use http_body::{Frame, SizeHint};
use tokio::time::Sleep;

/// The body did not arrive within the configured body read timeout.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within the body read timeout")]
pub struct BodyTooSlow;

/// `body`, failing with [`BodyTooSlow`] if it has not ended by the deadline.
pub struct ReadDeadline {
    body: Body,
    deadline: Pin<Box<Sleep>>,
}

impl ReadDeadline {
    /// `body`, to be read within `timeout` from now.
    pub fn new(body: Body, timeout: Duration) -> ReadDeadline {
        ReadDeadline { body, deadline: Box::pin(tokio::time::sleep(timeout)) }
    }
}

impl HttpBody for ReadDeadline {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        match this.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(BodyTooSlow)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Whether `error` (from reading a body) is a [`BodyTooSlow`].
pub fn is_too_slow(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<BodyTooSlow>() {
            return true;
        }
        current = error.source();
    }
    false
}
