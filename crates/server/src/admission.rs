//! What the hub lets a caller hold before and while it proves who it is
//! (docs/security.md "Nothing before authentication"):
//! token lifetimes, how fast revocations and refusal counts are applied, how
//! long a request body may take, and the HTTP/2 limits of a connection.

use std::{sync::Arc, time::Duration};

use crate::scheduler_control::SchedulerControl;

/// The admission settings of a server.
pub struct Admission {
    /// The longest a token may live (`exp - iat`); longer ones are refused.
    pub max_token_lifetime: Duration,
    /// When each replica re-reads the revocations (`token revoke`).
    pub revocation_refresh: Arc<SchedulerControl>,
    /// When the counts of refused calls whose minute is over are written.
    pub refusal_flush: Arc<SchedulerControl>,
    /// How long a request body may take to arrive once its headers were
    /// verified; a slower one is cut off and its in-flight slot freed.
    pub body_read_timeout: Duration,
    /// The HTTP/2 limits of every connection.
    pub http2: Http2Limits,
}

/// Explicit HTTP/2 limits instead of the libraries' defaults, so that they
/// are written down and configurable.
#[derive(Debug, Clone, Copy)]
pub struct Http2Limits {
    /// Concurrent streams (calls) one connection may have open.
    pub max_concurrent_streams: u32,
    /// How often an idle connection is pinged.
    pub keepalive_interval: Duration,
    /// How long a ping may go unanswered before the connection is closed.
    pub keepalive_timeout: Duration,
    /// The largest header block accepted (bytes); tokens are well under 4 KiB.
    pub max_header_list_size: u32,
}

/// Default maximum token lifetime: a working day and then some.
pub const DEFAULT_MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

impl Default for Http2Limits {
    fn default() -> Self {
        Http2Limits {
            max_concurrent_streams: 256,
            keepalive_interval: Duration::from_secs(30),
            keepalive_timeout: Duration::from_secs(20),
            max_header_list_size: 16 * 1024,
        }
    }
}

impl Default for Admission {
    fn default() -> Self {
        Admission {
            max_token_lifetime: DEFAULT_MAX_TOKEN_LIFETIME,
            revocation_refresh: SchedulerControl::every(Duration::from_secs(5)),
            refusal_flush: SchedulerControl::every(Duration::from_secs(10)),
            body_read_timeout: Duration::from_secs(30),
            http2: Http2Limits::default(),
        }
    }
}
