//! Logs and traces (docs/operations.md "Telemetry"): JSON lines in production and
//! pretty lines in dev, at the configured level; OpenTelemetry spans exported
//! over OTLP/gRPC when an endpoint is configured, off otherwise. Spans and
//! events carry ids, codes and counts only, never child data: the leak canary
//! test (`tests/e2e/canaries.rs`) reads everything they record.

use opentelemetry::{
    propagation::{Extractor, TextMapPropagator},
    trace::{TraceContextExt, TracerProvider as _},
};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::{propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt, registry::LookupSpan, util::SubscriberInitExt};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, for log collectors.
    Json,
    /// Human-readable lines, for dev mode.
    Pretty,
}

/// Why telemetry could not start.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The log level directive is malformed.
    #[error("log level {0:?}: {1}")]
    Level(String, String),
    /// The OTLP exporter could not be built.
    #[error("OTLP exporter for {0}: {1}")]
    Exporter(String, String),
}

/// Keeps the span exporter running; flushes what is buffered when dropped.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports every finished span now.
    pub fn flush(&self) {
        if let Some(provider) = &self.provider {
            let _ = provider.force_flush();
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            let _ = provider.shutdown();
        }
    }
}

/// An OpenTelemetry layer exporting this process's spans to the OTLP/gRPC
/// collector at `endpoint` (e.g. `http://otel-collector:4317`), in batches.
/// Must be called inside a Tokio runtime.
pub fn otlp_layer<S>(endpoint: &str) -> Result<(impl Layer<S> + use<S>, Telemetry), TelemetryError>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
{
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .map_err(|e| TelemetryError::Exporter(endpoint.to_owned(), e.to_string()))?;
    let resource = opentelemetry_sdk::Resource::builder().with_service_name("referral-hub").build();
    let provider = SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("referral-hub"));
    Ok((layer, Telemetry { provider: Some(provider) }))
}

/// Installs the process's logging at `level` (an `EnvFilter` directive such
/// as `info` or `info,referral_hub_store=debug`) in `format`, exporting spans
/// to `otlp_endpoint` when given.
pub fn init(level: &str, format: LogFormat, otlp_endpoint: Option<&str>) -> Result<Telemetry, TelemetryError> {
    let filter = EnvFilter::try_new(level).map_err(|e| TelemetryError::Level(level.to_owned(), e.to_string()))?;
    let fmt = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer().json().boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().boxed(),
    };
    let registry = tracing_subscriber::registry().with(filter).with(fmt);
    match otlp_endpoint {
        None => {
            registry.init();
            Ok(Telemetry { provider: None })
        }
        Some(endpoint) => {
            let (layer, telemetry) = otlp_layer(endpoint)?;
            registry.with(layer).init();
            Ok(telemetry)
        }
    }
}

/// Reads W3C `traceparent`/`tracestate` from HTTP headers.
struct Headers<'a>(&'a axum::http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// A server span for one request, continuing the caller's trace when its
/// `traceparent` header names one.
pub fn request_span(path: &str, headers: &axum::http::HeaderMap) -> tracing::Span {
    let span = tracing::info_span!("rpc", otel.name = path, otel.kind = "server", rpc.path = path);
    with_parent(span, &Headers(headers))
}

/// `span` as a child of the W3C trace context in `carrier`, when it holds a valid one.
fn with_parent(span: tracing::Span, carrier: &dyn Extractor) -> tracing::Span {
    let parent = TraceContextPropagator::new().extract(carrier);
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
    span
}

/// The current span as a W3C `traceparent`, when spans are exported: stored
/// with a message so that its delivery joins the submitting request's trace.
pub fn current_traceparent() -> Option<String> {
    current_span_ids().map(|(trace, span)| format!("00-{trace}-{span}-01"))
}

/// The trace and span ids (hex) of the current span, when spans are exported.
fn current_span_ids() -> Option<(String, String)> {
    let context = tracing::Span::current().context();
    let span = context.span();
    let ids = span.span_context();
    ids.is_valid().then(|| (ids.trace_id().to_string(), ids.span_id().to_string()))
}

/// A span for delivering something submitted under `traceparent`: a child of
/// the submitting request's span, in its trace, when one was recorded.
pub fn delivery_span(span: tracing::Span, traceparent: Option<&str>) -> tracing::Span {
    match traceparent {
        Some(traceparent) => {
            with_parent(span, &std::collections::HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]))
        }
        None => span,
    }
}

/// The trace id of the current span (32 hex digits) when spans are exported,
/// for the audit entry; `None` when they are not.
pub fn current_trace_id() -> Option<String> {
    current_span_ids().map(|(trace, _)| trace)
}
