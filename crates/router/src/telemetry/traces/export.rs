//! The OTLP exporter: spans batched by the OpenTelemetry SDK and sent over
//! gRPC (tonic) or HTTP (hyper) from a thread of their own, with its own
//! single-threaded tokio runtime, so that exporting never runs on (or
//! waits for) the threads that serve requests.

use opentelemetry::KeyValue;
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::runtime;
use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
use opentelemetry_sdk::trace::{BatchConfigBuilder, Sampler, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use tokio::sync::oneshot;

use super::config::{Protocol, TracingExporters};

/// Starts the exporter's thread and builds the tracer provider on it: the
/// provider, and what stops the thread (after the provider is shut down).
pub(super) fn start(
    config: &TracingExporters,
) -> Result<(SdkTracerProvider, oneshot::Sender<()>), String> {
    let (ready, provider) = std::sync::mpsc::channel();
    let (stop, stopped) = oneshot::channel::<()>();
    let config = config.clone();
    std::thread::Builder::new()
        .name("goliath-otlp".to_owned())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready.send(Err(format!("cannot start a runtime: {e}")));
                    return;
                }
            };
            runtime.block_on(async move {
                // Built inside the runtime: the batch processor's task and
                // the exporter's connections live on it.
                let _ = ready.send(provider_for(&config));
                let _ = stopped.await;
            });
        })
        .map_err(|e| format!("cannot start the trace exporter's thread: {e}"))?;
    let provider = provider
        .recv()
        .map_err(|_| "the trace exporter's thread stopped".to_owned())??;
    Ok((provider, stop))
}

/// The tracer provider `config` describes. Called on the exporter's runtime.
fn provider_for(config: &TracingExporters) -> Result<SdkTracerProvider, String> {
    let batch = &config.otlp.batch_processor;
    let endpoint = config.endpoint();
    let exporter = match config.otlp.protocol {
        Protocol::Grpc => SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint.clone())
            .with_timeout(batch.max_export_timeout)
            .build(),
        Protocol::Http => SpanExporter::builder()
            .with_http()
            .with_endpoint(endpoint.clone())
            .with_timeout(batch.max_export_timeout)
            .build(),
    }
    .map_err(|e| format!("telemetry.exporters.tracing.otlp: {endpoint}: {e}"))?;
    let processor = BatchSpanProcessor::builder(exporter, runtime::Tokio)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_scheduled_delay(batch.scheduled_delay)
                .with_max_queue_size(batch.max_queue_size)
                .with_max_export_batch_size(batch.max_export_batch_size)
                .with_max_export_timeout(batch.max_export_timeout)
                .build(),
        )
        .build();
    let common = &config.common;
    let ratio = Sampler::TraceIdRatioBased(common.sampler.ratio());
    let sampler = if common.parent_based_sampler {
        Sampler::ParentBased(Box::new(ratio))
    } else {
        ratio
    };
    let mut resource = Resource::builder().with_service_name(common.service_name.clone());
    if let Some(namespace) = &common.service_namespace {
        resource = resource.with_attribute(KeyValue::new("service.namespace", namespace.clone()));
    }
    let resource = resource.with_attributes(
        common
            .resource
            .iter()
            .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
    );
    Ok(SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_sampler(sampler)
        .with_resource(resource.build())
        .build())
}
