package io.edgefleet.agent.http;

import io.edgefleet.agent.serving.InferenceService;
import io.edgefleet.agent.slots.ModelSlots;
import io.edgefleet.agent.store.AgentStore;
import io.edgefleet.agent.telemetry.Observation;
import io.helidon.health.HealthCheckResponse;
import io.helidon.health.HealthCheckType;
import io.helidon.metrics.api.Counter;
import io.helidon.metrics.api.Gauge;
import io.helidon.metrics.api.MeterRegistry;
import io.helidon.metrics.api.Tag;
import io.helidon.service.registry.Services;
import io.helidon.webserver.observe.ObserveFeature;
import io.helidon.webserver.observe.health.HealthObserver;
import io.helidon.webserver.observe.metrics.MetricsObserver;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The agent's own health and metrics, on Helidon's observe endpoints: {@code /observe/health}
 * (liveness: the database answers; readiness: started, with the models served and, under
 * {@code notReady}, each model whose file was refused at startup with the reason; a refused model
 * does not make the agent unready, since it serves the others) and {@code /observe/metrics} (Prometheus text with {@code Accept: text/plain}):
 * active models, requests by model and outcome, queued requests, telemetry outbox rows and
 * batches lost, MQTT connection, MQTT messages dropped ({@code edgefleet.agent.mqtt.dropped}) and
 * MQTT requests answered busy ({@code edgefleet.agent.mqtt.busy}), MQTT requests left unanswered because their response topic lay
 * outside the fleet's reply space ({@code edgefleet.agent.mqtt.outside-reply-space}). Liveness also fails when a
 * listener or the MQTT receiver is down ({@code listeners} check, with the reasons). Meters live in Helidon's registry of the process.
 */
public final class AgentObserve {
    private final MeterRegistry registry = Services.get(MeterRegistry.class);

    public ObserveFeature feature(ModelSlots slots, InferenceService inference, AgentStore store, BooleanSupplier ready,
            BooleanSupplier mqttConnected, io.edgefleet.agent.health.ListenerHealth listeners, java.util.function.LongSupplier mqttDropped,
            java.util.function.LongSupplier mqttBusy, java.util.function.LongSupplier mqttOutsideReplySpace) {
        registry.getOrCreate(Gauge.builder("edgefleet.agent.models.active", () -> slots.activeVersions().size()));
        registry.getOrCreate(Gauge.builder("edgefleet.agent.requests.queued",
                () -> inference.queueDepths().values().stream().mapToInt(Integer::intValue).sum()));
        registry.getOrCreate(Gauge.builder("edgefleet.agent.telemetry.outbox", store::outboxSize));
        registry.getOrCreate(Gauge.builder("edgefleet.agent.telemetry.lost", store::telemetryLost));
        registry.getOrCreate(Gauge.builder("edgefleet.agent.mqtt.connected", () -> mqttConnected.getAsBoolean() ? 1 : 0));
        registry.getOrCreate(Gauge.builder("edgefleet.agent.mqtt.dropped", mqttDropped::getAsLong));
        registry.getOrCreate(Gauge.builder("edgefleet.agent.mqtt.busy", mqttBusy::getAsLong));
        registry.getOrCreate(Gauge.builder("edgefleet.agent.mqtt.outside-reply-space", mqttOutsideReplySpace::getAsLong));
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
                .addCheck(() -> HealthCheckResponse.builder().status(ready.getAsBoolean())
                        .detail("models", slots.activeVersions()).detail("notReady", slots.notReady()).build(),
                        HealthCheckType.READINESS, "models")
                .build();
        return ObserveFeature.just(health, MetricsObserver.create());
    }

    /** Counts one request, by model and outcome: {@code ok}, {@code error} (the model failed), or the client error's kind. */
    public void count(Observation o) {
        String outcome = o.clientError().map(k -> k.wire()).orElse(o.error() ? "error" : "ok");
        registry.getOrCreate(Counter.builder("edgefleet.agent.requests")
                .tags(List.of(Tag.create("model", o.model()), Tag.create("outcome", outcome)))).increment();
    }
}
