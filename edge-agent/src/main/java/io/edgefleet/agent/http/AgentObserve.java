package io.edgefleet.agent.http;

import io.edgefleet.agent.serving.InferenceService;
import io.edgefleet.agent.slots.ModelSlots;
import io.edgefleet.agent.store.AgentStore;
import io.edgefleet.agent.telemetry.Observation;
import io.edgefleet.protocols.messages.ClientErrorKind;
import io.edgefleet.transport.metrics.JvmMeters;
import io.helidon.health.HealthCheckResponse;
import io.helidon.health.HealthCheckType;
import io.helidon.metrics.api.Counter;
import io.helidon.metrics.api.FunctionalCounter;
import io.helidon.metrics.api.Gauge;
import io.helidon.metrics.api.MeterRegistry;
import io.helidon.metrics.api.Tag;
import io.helidon.metrics.api.Timer;
import io.helidon.service.registry.Services;
import io.helidon.webserver.observe.ObserveFeature;
import io.helidon.webserver.observe.health.HealthObserver;
import io.helidon.webserver.observe.metrics.MetricsObserver;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The agent's own health and metrics, on Helidon's observe endpoints.
 *
 * <p>{@code /observe/health} (JSON): liveness — the database answers ({@code database}), every listener and the MQTT
 * receiver is up ({@code listeners}, each problem under its part's name); readiness — started, with each served model's
 * active version under {@code model.NAME} and each model whose file was refused at startup under {@code not_ready.NAME}
 * with the reason (a refused model does not make the agent unready: it serves the others). Every detail is a plain JSON
 * string or number, never a Java map's text.
 *
 * <p>{@code /observe/metrics} (Prometheus text 0.0.4 with {@code Accept: text/plain}; names follow the Prometheus
 * conventions: base units, {@code _total} counters, HELP on every family, checked by {@code promtool check metrics}):
 * {@code edgefleet_agent_requests_total{model,outcome,reason}}, {@code edgefleet_agent_inference_duration_seconds{model}}
 * (a histogram with fixed buckets from 1 ms to 10 s), queue, outbox, MQTT and JVM meters; the full list with types, units
 * and labels is in {@code docs/edge-agent.md}, section "Metrics". Meters live in Helidon's registry of the process.
 */
public final class AgentObserve {
    /** Bucket bounds of the inference latency histogram: classic buckets a dashboard can sum across devices. */
    static final Duration[] LATENCY_BUCKETS = {Duration.ofMillis(1), Duration.ofNanos(2_500_000), Duration.ofMillis(5), Duration.ofMillis(10),
        Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
        Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10)};
    /** The model label of a request for a model this agent does not serve: the client chose that name, so it is not a label value. */
    public static final String UNKNOWN_MODEL = "_unknown";

    private final MeterRegistry registry = Services.get(MeterRegistry.class);
    private final Predicate<String> served;

    /** @param served whether a model name is one this agent serves (so that client-chosen names never become label values) */
    public AgentObserve(Predicate<String> served) {
        this.served = served;
        JvmMeters.bind(registry);
    }

    public ObserveFeature feature(ModelSlots slots, InferenceService inference, AgentStore store, BooleanSupplier ready,
            BooleanSupplier mqttConnected, io.edgefleet.agent.health.ListenerHealth listeners, LongSupplier mqttDropped,
            LongSupplier mqttBusy, LongSupplier mqttOutsideReplySpace) {
        registry.getOrCreate(Gauge.builder("edgefleet.agent.models.active", () -> slots.activeVersions().size())
                .description("Models the agent serves (with an active version)"));
        registry.getOrCreate(Gauge.builder("edgefleet.agent.requests.queued",
                () -> inference.queueDepths().values().stream().mapToInt(Integer::intValue).sum())
                .description("Requests waiting in the models' queues"));
        registry.getOrCreate(Gauge.builder("edgefleet.agent.telemetry.outbox.batches", store::outboxSize)
                .description("Telemetry batches in the outbox, waiting for the broker's acknowledgement"));
        counter("edgefleet.agent.telemetry.batches.lost", store::telemetryLost,
                "Telemetry batches dropped because the outbox was full while the broker was away");
        registry.getOrCreate(Gauge.builder("edgefleet.agent.mqtt.connected", () -> mqttConnected.getAsBoolean() ? 1 : 0)
                .description("1 while the MQTT session is connected, else 0"));
        counter("edgefleet.agent.mqtt.dropped.messages", mqttDropped,
                "MQTT inference requests dropped (unreadable, or no thread to take them)");
        counter("edgefleet.agent.mqtt.busy.responses", mqttBusy, "MQTT inference requests answered busy (the agent was at capacity)");
        counter("edgefleet.agent.mqtt.outside.reply.space.requests", mqttOutsideReplySpace,
                "MQTT requests left unanswered because their response topic lay outside the fleet's reply space");
        HealthObserver health = HealthObserver.builder()
                .details(true)
                .addCheck(() -> {
                    long rows = store.outboxSize(); // a query: the database answers
                    return HealthCheckResponse.builder().status(true).detail("outbox", rows).build();
                }, HealthCheckType.LIVENESS, "database")
                .addCheck(() -> {
                    var problems = listeners.problems();
                    var b = HealthCheckResponse.builder().status(problems.isEmpty());
                    problems.forEach(b::detail);
                    return b.build();
                }, HealthCheckType.LIVENESS, "listeners")
                .addCheck(() -> {
                    var b = HealthCheckResponse.builder().status(ready.getAsBoolean());
                    Map<String, String> active = slots.activeVersions();
                    b.detail("models_active", active.size());
                    active.forEach((model, version) -> b.detail("model." + model, version));
                    slots.notReady().forEach((model, reason) -> b.detail("not_ready." + model, reason));
                    return b.build();
                }, HealthCheckType.READINESS, "models")
                .build();
        return ObserveFeature.just(health, MetricsObserver.create());
    }

    private void counter(String name, LongSupplier value, String help) {
        registry.getOrCreate(FunctionalCounter.builder(name, value, v -> v.getAsLong()).description(help));
    }

    /**
     * Counts one request, by model, outcome and reason, and times the model's work.
     * <ul>
     * <li>{@code outcome="ok"} ({@code reason="none"}): answered;</li>
     * <li>{@code outcome="server_error"} ({@code reason="model_error"}): the model failed or did not answer in time (5xx);</li>
     * <li>{@code outcome="overloaded"} ({@code reason="queue_full"}): refused with 429 because the model's queue was full;</li>
     * <li>{@code outcome="client_error"}: any other 4xx, the reason naming the client's mistake ({@code bad_request},
     * {@code invalid_input}, {@code unknown_model}, {@code payload_too_large}, {@code unsupported_media_type},
     * {@code other}); never counted as a model error.</li>
     * </ul>
     * {@code edgefleet_agent_inference_duration_seconds{model}} records the engine call of every request that ran (ok or
     * server error), not refused ones. Called on inference threads.
     */
    public void count(Observation o) {
        String outcome;
        String reason;
        if (o.clientError().isPresent()) {
            ClientErrorKind k = o.clientError().get();
            outcome = k == ClientErrorKind.OVERLOADED ? "overloaded" : "client_error";
            reason = k == ClientErrorKind.OVERLOADED ? "queue_full" : k.wire().replace('-', '_');
        } else if (o.error()) {
            outcome = "server_error";
            reason = "model_error";
        } else {
            outcome = "ok";
            reason = "none";
        }
        String model = o.refused() && !served.test(o.model()) ? UNKNOWN_MODEL : o.model();
        registry.getOrCreate(Counter.builder("edgefleet.agent.requests")
                .description("Inference requests by model, outcome (ok, client_error, server_error, overloaded) and reason")
                .tags(List.of(Tag.create("model", model), Tag.create("outcome", outcome), Tag.create("reason", reason)))).increment();
        if (!o.refused()) {
            registry.getOrCreate(Timer.builder("edgefleet.agent.inference.duration")
                    .description("Time the model took per request (the engine call, without the queue), by model")
                    .buckets(LATENCY_BUCKETS)
                    .percentiles(new double[0]) // no client-side quantiles (Helidon's default): a histogram's type has no quantile label
                    .tags(List.of(Tag.create("model", model)))).record(Duration.ofNanos((long) (o.latencyMillis() * 1_000_000)));
        }
    }
}
