package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cloud.ingest.KafkaSettings;
import io.edgefleet.protocols.messages.LatencyPercentiles;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.messages.TelemetryBatch;
import io.edgefleet.protocols.messages.TelemetryRecord;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.testkit.KafkaExtension;
import io.edgefleet.testkit.MosquittoExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ingest rate end to end (telemetry batches per second from the broker into the aggregates),
 * in-process and through Kafka, against {@code mosquitto_sub} reading the same stream from the same
 * broker in the same run. Run: {@code ./mvnw -pl cloud-control-plane -am -Pslow -Dtest=IngestBenchmark
 * -Dsurefire.failIfNoSpecifiedTests=false verify}; figures in docs/benchmarks.md.
 */
@Tag("slow")
class IngestBenchmark {
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    @RegisterExtension
    static final KafkaExtension KAFKA = new KafkaExtension();
    @TempDir
    Path dir;

    static final int BATCHES = Integer.getInteger("edgefleet.bench.batches", 20_000);
    static final int DEVICES = 200;

    @Test
    void ingest_rate_versus_mosquitto_sub() throws Exception {
        System.out.printf("%nIngest benchmark: %d batches (1 record each) from %d devices, QoS 1, Mosquitto %s%n", BATCHES, DEVICES,
                MQTT.broker().describe());
        double direct = run("in-process", CloudTestSupport.config(dir.resolve("direct")).withMqtt(MQTT.broker().url()), "d");
        KafkaSettings k = new KafkaSettings(KAFKA.broker().bootstrapServers(), "edgefleet.telemetry.v1", "edgefleet.events.v1",
                "edgefleet-aggregator", 6, (short) 1, Map.of());
        double kafka = run("kafka", CloudTestSupport.config(dir.resolve("kafka")).withMqtt(MQTT.broker().url()).withKafka(k), "k");
        System.out.printf("in-process / kafka ingest rate: %.2f%n", direct / kafka);
    }

    private double run(String mode, CloudConfig config, String fleet) throws Exception {
        try (ControlPlane cp = ControlPlane.start(config)) {
            Thread.sleep(1000); // the ingest session subscribes
            Process sub = new ProcessBuilder("mosquitto_sub", "-h", "127.0.0.1", "-p", Integer.toString(MQTT.broker().port()), "-V", "mqttv5",
                    "-q", "1", "-t", Topic.ROOT + "/" + fleet + "/+/telemetry", "-C", Integer.toString(BATCHES))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            Thread.sleep(500); // mosquitto_sub subscribes
            long applied0 = cp.ingestStats().applied.get();
            long t0 = System.nanoTime();
            publish(fleet);
            long published = System.nanoTime();
            assertThat(sub.waitFor(120, TimeUnit.SECONDS)).as("mosquitto_sub received every batch").isTrue();
            long subDone = System.nanoTime();
            await(Duration.ofSeconds(180), mode + " ingest of every batch", () -> cp.ingestStats().applied.get() - applied0 >= BATCHES);
            long ingestDone = System.nanoTime();
            double pubRate = BATCHES / ((published - t0) / 1e9);
            double subRate = BATCHES / ((subDone - t0) / 1e9);
            double ingestRate = BATCHES / ((ingestDone - t0) / 1e9);
            long counted = cp.telemetry().modelTotal("m", "1", Instant.now().minus(Duration.ofHours(1)), Instant.now().plus(Duration.ofHours(1)))
                    .count();
            assertThat(counted).isEqualTo(BATCHES * 10L);
            System.out.printf("%-10s publish %8.0f batches/s | mosquitto_sub %8.0f batches/s | ingest into aggregates %8.0f batches/s"
                    + " | ingest/mosquitto_sub %.2f%n", mode, pubRate, subRate, ingestRate, ingestRate / subRate);
            return ingestRate;
        }
    }

    static final int PUBLISHERS = 4;

    /** {@value #PUBLISHERS} publisher sessions, each for a quarter of the devices, at Mosquitto's 20 in-flight messages each. */
    private void publish(String fleet) throws Exception {
        List<Thread> threads = new java.util.ArrayList<>();
        List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int p = 0; p < PUBLISHERS; p++) {
            int part = p;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    publish(fleet, part);
                } catch (Throwable e) {
                    errors.add(e);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(errors).isEmpty();
    }

    private void publish(String fleet, int part) throws Exception {
        MqttAsyncClient c = new MqttAsyncClient(MQTT.broker().url(), "bench-pub-" + fleet + part, new MemoryPersistence());
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setReceiveMaximum(65535);
        o.setSocketFactory(new io.edgefleet.transport.net.NoDelaySockets());
        c.connect(o).waitForCompletion();
        MessageCodec json = MessageCodec.json();
        Instant w = Instant.now();
        java.util.concurrent.Semaphore window = new java.util.concurrent.Semaphore(20);
        for (int i = part; i < BATCHES; i += PUBLISHERS) {
            String device = "dev-" + (i % DEVICES);
            TelemetryBatch b = new TelemetryBatch(fleet, device, i / DEVICES, w, List.of(new TelemetryRecord("m", "1", w.minusSeconds(10), w, 10,
                    0, new LatencyPercentiles(1, 2, 3, 4), OptionalDouble.of(0.8), 0, 0, 0, Map.of())));
            MqttMessage m = new MqttMessage(json.encode(b));
            m.setQos(1);
            if (!window.tryAcquire(30, TimeUnit.SECONDS)) {
                throw new AssertionError("the broker stopped acknowledging publishes");
            }
            c.publish(Topic.telemetry(fleet, device).value(), m, null, new org.eclipse.paho.mqttv5.client.MqttActionListener() {
                @Override
                public void onSuccess(IMqttToken token) {
                    window.release();
                }

                @Override
                public void onFailure(IMqttToken token, Throwable e) {
                    window.release();
                }
            });
        }
        assertThat(window.tryAcquire(20, 30, TimeUnit.SECONDS)).isTrue();
        c.disconnect().waitForCompletion();
        c.close();
    }
}
