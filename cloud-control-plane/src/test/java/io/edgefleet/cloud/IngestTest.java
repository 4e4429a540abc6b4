package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.agent.AgentConfig;
import io.edgefleet.agent.EdgeAgent;
import io.edgefleet.cloud.ingest.KafkaSettings;
import io.edgefleet.cloud.store.Aggregate;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.messages.LatencyPercentiles;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.messages.TelemetryBatch;
import io.edgefleet.protocols.messages.TelemetryRecord;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.testkit.KafkaExtension;
import io.edgefleet.testkit.MosquittoExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Telemetry ingest end to end with real agents, a real Mosquitto and a real Kafka broker: the
 * brokers restart mid-stream and the aggregates still equal exactly what the agents served.
 */
class IngestTest {
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    @RegisterExtension
    static final KafkaExtension KAFKA = new KafkaExtension();
    @TempDir
    Path dir;

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final byte[] REQUEST = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}".getBytes();

    private EdgeAgent agent(String fleet, String device) throws Exception {
        Path models = Files.createDirectories(dir.resolve(device + "-models"));
        Files.move(SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve(device + "-src"))), models.resolve("cls.onnx"));
        return EdgeAgent.start(AgentConfig.defaults(dir.resolve(device)).withModelsDir(models).withHttp("127.0.0.1", 0).withCoapPort(-1)
                .withIdentity(fleet, device).withMqtt(MQTT.broker().url()).withTelemetry(Duration.ofMillis(200), 10_000));
    }

    /** Sends {@code n} requests to the agent's HTTP API; returns how many it answered 200. */
    private static int load(EdgeAgent a, int n) throws Exception {
        int ok = 0;
        URI uri = URI.create("http://127.0.0.1:" + a.httpPort() + "/v2/models/cls/infer");
        for (int i = 0; i < n; i++) {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofByteArray(REQUEST)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) {
                ok++;
            }
            if (i % 20 == 0) {
                Thread.sleep(10);
            }
        }
        return ok;
    }

    private static long count(ControlPlane cp, String fleet, String device) {
        return cp.telemetry().deviceTotals(fleet, device, Instant.now().minus(Duration.ofHours(1)), Instant.now().plus(Duration.ofHours(1)))
                .stream().mapToLong(Aggregate::count).sum();
    }

    private static final java.util.concurrent.atomic.AtomicLong PRODUCED = new java.util.concurrent.atomic.AtomicLong();

    private static long producedBefore(ControlPlane cp) {
        return PRODUCED.get();
    }

    private void stream(ControlPlane cp, String fleet, boolean restartKafka) throws Exception {
        try (EdgeAgent a1 = agent(fleet, "a1"); EdgeAgent a2 = agent(fleet, "a2")) {
            await(Duration.ofSeconds(15), "agents connected", () -> a1.mqtt().orElseThrow().isConnected() && a2.mqtt().orElseThrow().isConnected());
            AtomicInteger served1 = new AtomicInteger();
            AtomicInteger served2 = new AtomicInteger();
            served1.addAndGet(load(a1, 150));
            served2.addAndGet(load(a2, 150));
            await(Duration.ofSeconds(90), "the pipeline carries the first requests",
                    () -> count(cp, fleet, "a1") >= 150 && count(cp, fleet, "a2") >= 150);
            MQTT.broker().stop(); // mid-stream: agents keep serving, telemetry waits in their outboxes
            served1.addAndGet(load(a1, 150));
            served2.addAndGet(load(a2, 150));
            MQTT.broker().start();
            if (restartKafka) {
                await(Duration.ofSeconds(90), "telemetry flowing again after the broker restart",
                        () -> count(cp, fleet, "a1") >= 300 && count(cp, fleet, "a2") >= 300);
                Thread.sleep(500);
                PRODUCED.set(cp.ingestStats().produced.get());
                KAFKA.broker().stop(); // batches now reach the ingest but Kafka cannot take them: none may be acknowledged
                served1.addAndGet(load(a1, 150));
                served2.addAndGet(load(a2, 150));
                Thread.sleep(1000);
                assertThat(cp.ingestStats().produced.get()).as("nothing produced while Kafka is down")
                        .isEqualTo(producedBefore(cp));
                KAFKA.broker().restart();
            }
            assertThat(served1.get()).isEqualTo(restartKafka ? 450 : 300);
            assertThat(served2.get()).isEqualTo(restartKafka ? 450 : 300);
            await(Duration.ofSeconds(90), "aggregates reach what the agents served (a1 " + served1 + ", a2 " + served2 + ")",
                    () -> count(cp, fleet, "a1") >= served1.get() && count(cp, fleet, "a2") >= served2.get());
            Thread.sleep(1500); // any late redelivery would land now
            assertThat(count(cp, fleet, "a1")).as("nothing lost, nothing double-counted").isEqualTo(served1.get());
            assertThat(count(cp, fleet, "a2")).as("nothing lost, nothing double-counted").isEqualTo(served2.get());
            Aggregate total = cp.telemetry().modelTotal("cls", a1.slots().activeVersions().get("cls"), Instant.now().minus(Duration.ofHours(1)),
                    Instant.now().plus(Duration.ofHours(1)));
            assertThat(total.errors()).isZero();
            assertThat(total.p95Ms()).isPositive();
            assertThat(cp.telemetry().lost(fleet, "a1")).isZero();
        }
    }

    @Test
    void through_kafka_a_broker_restart_and_a_kafka_restart_lose_and_double_count_nothing() throws Exception {
        KafkaSettings k = new KafkaSettings(KAFKA.broker().bootstrapServers(), "edgefleet.telemetry.v1", "edgefleet.events.v1",
                "edgefleet-aggregator", 3, (short) 1, Map.of());
        try (ControlPlane cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withMqtt(MQTT.broker().url()).withKafka(k))) {
            stream(cp, "kafka-fleet", true);
            assertThat(cp.ingestStats().applied.get()).as("batches went through Kafka").isPositive(); // else the >= below holds as 0 >= 0
            assertThat(cp.ingestStats().produced.get()).isGreaterThanOrEqualTo(cp.ingestStats().applied.get());
        }
    }

    @Test
    void in_process_a_broker_restart_loses_and_double_counts_nothing() throws Exception {
        try (ControlPlane cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withMqtt(MQTT.broker().url()))) {
            stream(cp, "direct-fleet", false);
            assertThat(cp.ingestStats().produced.get()).isZero();
        }
    }

    @Test
    void a_redelivered_batch_is_counted_once_and_a_malformed_one_is_refused_without_blocking_the_stream() throws Exception {
        try (ControlPlane cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withMqtt(MQTT.broker().url()))) {
            MqttClient pub = new MqttClient(MQTT.broker().url(), "dup-pub", new MemoryPersistence());
            pub.connect();
            await(Duration.ofSeconds(10), "ingest connected", () -> cp.ingestStats() != null && cp.config().mqttUrl().isPresent());
            Thread.sleep(500);
            Instant w = Instant.now();
            TelemetryBatch b = new TelemetryBatch("dup", "d1", 5, w, List.of(new TelemetryRecord("cls", "1", w.minusSeconds(1), w, 40, 2,
                    new LatencyPercentiles(1, 2, 3, 4), OptionalDouble.of(0.9), 0, 0, 1, Map.of())));
            byte[] payload = MessageCodec.json().encode(b);
            String topic = Topic.telemetry("dup", "d1").value();
            pub.publish(topic, payload, 1, false);
            pub.publish(topic, "{not json".getBytes(), 1, false);
            pub.publish(Topic.telemetry("dup", "someone-else").value(), payload, 1, false); // spoofed: topic and body disagree
            pub.publish(topic, payload, 1, false); // a redelivery
            TelemetryBatch next = new TelemetryBatch("dup", "d1", 6, w, b.records());
            pub.publish(topic, MessageCodec.json().encode(next), 1, false);
            await(Duration.ofSeconds(10), "both sequences applied", () -> count(cp, "dup", "d1") >= 80);
            Thread.sleep(500);
            assertThat(count(cp, "dup", "d1")).isEqualTo(80);
            assertThat(cp.ingestStats().duplicates.get()).isEqualTo(1);
            assertThat(cp.ingestStats().rejected.get()).isEqualTo(2);
            Aggregate a = cp.telemetry().modelTotal("cls", "1", w.minusSeconds(3600), w.plusSeconds(3600));
            assertThat(a.errors()).isEqualTo(4);
            assertThat(a.meanConfidence()).hasValue(0.9);
            assertThat(a.devices()).isEqualTo(1);
            pub.disconnect();
            pub.close();
        }
    }
}
