package io.edgefleet.transport.tracing;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * One component's tracing: an OpenTelemetry tracer and the W3C Trace Context propagator
 * ({@code traceparent}, {@code tracestate}; W3C Trace Context Level 1), or nothing at all.
 *
 * <p>{@link #off()} (the default everywhere) holds OpenTelemetry's no-op implementation and
 * {@link #on()} is false: callers test {@code on()} before any span or propagation work, so an
 * untraced request pays one field read. {@link #create} builds the SDK only when the settings
 * enable it: a parent-based trace-id-ratio sampler, a batch span processor and the OTLP/HTTP
 * (protobuf) exporter on the JDK's HttpClient. {@link #of} wraps any {@link OpenTelemetry}
 * (tests: an SDK with the in-memory exporter).
 *
 * <p>Spans are named and attributed after the OpenTelemetry semantic conventions (HTTP server and
 * client spans, messaging spans for MQTT); see {@code docs/edge-agent.md}, section Tracing.
 * Thread-safe; {@link #close} flushes the spans not yet exported (at most 5 s) and stops the SDK.
 */
public final class Tracing implements AutoCloseable {
    /** The instrumentation scope of EdgeFleet's spans. */
    public static final String SCOPE = "io.edgefleet";
    private static final TextMapPropagator W3C = W3CTraceContextPropagator.getInstance();
    private static final Tracing OFF = new Tracing(OpenTelemetry.noop(), false, () -> { });

    private final OpenTelemetry otel;
    private final Tracer tracer;
    private final boolean on;
    private final Runnable shutdown;

    private Tracing(OpenTelemetry otel, boolean on, Runnable shutdown) {
        this.otel = otel;
        this.tracer = otel.getTracer(SCOPE);
        this.on = on;
        this.shutdown = shutdown;
    }

    /** No tracing: a no-op tracer, nothing extracted or injected. */
    public static Tracing off() {
        return OFF;
    }

    /**
     * Tracing on {@code otel}'s tracer provider, propagating with W3C Trace Context.
     *
     * @param shutdown run by {@link #close} (flush and stop the SDK), may do nothing
     */
    public static Tracing of(OpenTelemetry otel, Runnable shutdown) {
        return new Tracing(Objects.requireNonNull(otel, "otel"), true, Objects.requireNonNull(shutdown, "shutdown"));
    }

    /**
     * The SDK these settings describe, or {@link #off()} when they do not enable tracing.
     *
     * @param serviceVersion the {@code service.version} resource attribute
     * @param instanceId the {@code service.instance.id} resource attribute (the device id, the control plane's instance)
     */
    public static Tracing create(TracingSettings settings, String serviceVersion, String instanceId) {
        if (!settings.enabled()) {
            return OFF;
        }
        Resource resource = Resource.getDefault().merge(Resource.create(Attributes.builder()
                .put("service.name", settings.serviceName())
                .put("service.version", serviceVersion)
                .put("service.instance.id", instanceId)
                .build()));
        SdkTracerProvider provider = SdkTracerProvider.builder()
                .setResource(resource)
                .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(settings.samplerRatio())))
                .addSpanProcessor(BatchSpanProcessor.builder(OtlpHttpSpanExporter.builder()
                        .setEndpoint(settings.otlpTracesEndpoint().toString())
                        .build()).build())
                .build();
        OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
                .setTracerProvider(provider)
                .setPropagators(ContextPropagators.create(W3C))
                .build();
        return new Tracing(sdk, true, () -> sdk.shutdown().join(5, TimeUnit.SECONDS));
    }

    /** Whether spans are recorded; when false, callers skip all tracing work. */
    public boolean on() {
        return on;
    }

    public Tracer tracer() {
        return tracer;
    }

    /** A span builder of {@code kind} under {@code parent}. */
    public SpanBuilder span(String name, SpanKind kind, Context parent) {
        return tracer.spanBuilder(name).setSpanKind(kind).setParent(parent);
    }

    /** The context that a carrier's {@code traceparent} (and {@code tracestate}) names, under {@link Context#root()}; root when none or malformed. */
    public <C> Context extract(C carrier, TextMapGetter<C> getter) {
        return W3C.extract(Context.root(), carrier, getter);
    }

    /** Writes {@code context}'s span as {@code traceparent} (and {@code tracestate}) into a carrier; nothing when the span is not valid. */
    public <C> void inject(Context context, C carrier, TextMapSetter<C> setter) {
        W3C.inject(context, carrier, setter);
    }

    /**
     * Runs {@code work} in an internal span named {@code name}, a child of the current span and
     * current while it runs; just runs it when tracing is off. A thrown exception marks the span failed.
     * Hot paths test {@link #on()} first, so that the untraced call allocates no lambda.
     */
    public <T> T within(String name, java.util.function.Supplier<T> work) {
        if (!on) {
            return work.get();
        }
        Span span = tracer.spanBuilder(name).startSpan();
        try (io.opentelemetry.context.Scope s = span.makeCurrent()) {
            return work.get();
        } catch (RuntimeException | Error e) {
            failed(span, e);
            throw e;
        } finally {
            span.end();
        }
    }

    /** Ends {@code span} as failed with {@code error}'s type (semantic convention {@code error.type}). */
    public static void failed(Span span, Throwable error) {
        span.setStatus(io.opentelemetry.api.trace.StatusCode.ERROR);
        span.setAttribute("error.type", error.getClass().getName());
    }

    /** The underlying OpenTelemetry (no-op when off). */
    public OpenTelemetry openTelemetry() {
        return otel;
    }

    @Override
    public void close() {
        shutdown.run();
    }
}
