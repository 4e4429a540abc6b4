package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.agent.commands.CommandHandler;
import io.edgefleet.agent.mqtt.MqttLink;
import io.edgefleet.agent.serving.InferenceService;
import io.edgefleet.agent.slots.ModelSlots;
import io.edgefleet.agent.store.AgentStore;
import io.edgefleet.agent.telemetry.Observation;
import io.edgefleet.agent.telemetry.TelemetryPublisher;
import io.edgefleet.agent.telemetry.TelemetryRecorder;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.isolation.IsolationOptions;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.messages.TelemetryBatch;
import io.edgefleet.protocols.oip.OipCodec;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.testkit.MosquittoExtension;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Telemetry is written to the SQLite outbox first and deleted only after the broker's PUBACK:
 * broker outages delay it, never lose it. Time is a test clock stepped window by window.
 */
class TelemetryStoreAndForwardTest {
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();

    /** A clock the test moves by hand. */
    static final class StepClock extends Clock {
        private volatile Instant now = Instant.parse("2026-11-29T08:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    @TempDir
    Path dir;
    AgentStore store;
    ModelSlots slots;
    InferenceService inference;
    MqttLink link;
    MqttClient consumer;
    MqttCallback consumerCallback;
    final Set<Long> received = ConcurrentHashMap.newKeySet();
    final AtomicInteger deliveries = new AtomicInteger();
    final Map<Long, Long> lostReported = new ConcurrentHashMap<>();
    final java.util.List<String> problems = new java.util.concurrent.CopyOnWriteArrayList<>();

    @BeforeEach
    void connect() throws Exception {
        store = AgentStore.open(dir.resolve("data"));
        slots = new ModelSlots(dir.resolve("data"), store, EngineOptions.defaults(), IsolationOptions.defaults(), 5);
        inference = new InferenceService(slots, 1, 8, Duration.ofSeconds(5));
        link = new MqttLink(MQTT.broker().url(), "f", "d", "generic", slots, inference,
                new CommandHandler(slots, store, "d", Clock.systemUTC()), OipCodec.create(), 8, Clock.systemUTC());
        link.start();
        consumer = new MqttClient(MQTT.broker().url(), "ingest-" + java.util.UUID.randomUUID(), new MemoryPersistence());
        consumerCallback = new MqttCallback() {
            @Override
            public void messageArrived(String topic, MqttMessage m) {
                TelemetryBatch b;
                try {
                    b = MessageCodec.json().decode(m.getPayload(), TelemetryBatch.class);
                } catch (RuntimeException e) {
                    problems.add("undecodable batch: " + e.getMessage());
                    return;
                }
                received.add(b.sequence());
                deliveries.incrementAndGet();
                if (b.lost() > 0) {
                    lostReported.put(b.sequence(), b.lost());
                }
            }

            @Override
            public void disconnected(MqttDisconnectResponse r) {
                problems.add("consumer disconnected: " + r.getException());
            }

            @Override
            public void mqttErrorOccurred(MqttException e) {
                problems.add("consumer error: " + e);
            }

            @Override
            public void deliveryComplete(IMqttToken t) {
            }

            @Override
            public void connectComplete(boolean reconnect, String uri) {
                problems.add("consumer connected, reconnect=" + reconnect);
            }

            @Override
            public void authPacketArrived(int code, MqttProperties p) {
            }
        };
        consumer.setCallback(consumerCallback);
        MqttConnectionOptions o = consumerOptions();
        consumer.connect(o);
        consumer.subscribe(Topic.telemetry("f", "d").value(), 1);
        awaitConnected();
    }

    /** Short connect timeout: a connect attempt that hangs on a restarting broker is abandoned in 5 s, not Paho's default 30 s. */
    private static MqttConnectionOptions consumerOptions() {
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(false);
        o.setSessionExpiryInterval(3600L);
        o.setAutomaticReconnect(true);
        o.setAutomaticReconnectDelay(1, 2);
        o.setConnectionTimeout(5);
        return o;
    }

    @AfterEach
    void close() throws MqttException {
        consumer.disconnect();
        consumer.close();
        link.close();
        inference.close();
        slots.close();
        store.close();
    }

    private void awaitConnected() throws InterruptedException, MqttException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        long nudge = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        int stuck = 0;
        while ((!link.isConnected() || !consumer.isConnected()) && System.nanoTime() < deadline) {
            if (!consumer.isConnected() && System.nanoTime() > nudge) {
                // The consumer stands in for the cloud's ingest and is not under test: if Paho's own
                // reconnect stalls, reconnect it by hand. The agent's link gets no such help.
                try {
                    consumer.reconnect();
                } catch (MqttException e) {
                    problems.add("manual reconnect: " + e.getMessage());
                    if (++stuck >= 3) {
                        // Paho 1.2.5 can wedge in "Connect already in progress"; a fresh client with the
                        // same id resumes the same persistent session at the broker.
                        problems.add("consumer replaced");
                        try {
                            consumer.disconnectForcibly(0, 0, false);
                        } catch (MqttException ignored) {
                            // replacing it anyway
                        }
                        MqttClient fresh = new MqttClient(MQTT.broker().url(), consumer.getClientId(), new MemoryPersistence());
                        fresh.setCallback(consumerCallback);
                        consumer.close(true);
                        consumer = fresh;
                        try {
                            consumer.connect(consumerOptions());
                        } catch (MqttException ce) {
                            problems.add("fresh consumer connect: " + ce.getMessage());
                        }
                        stuck = 0;
                    }
                }
                nudge = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            }
            Thread.sleep(50);
        }
        assertThat(link.isConnected() && consumer.isConnected()).as("both reconnected within 60 s (link %s, consumer %s): %s; broker log:%n%s",
                link.isConnected(), consumer.isConnected(), problems, MQTT.broker().logTail()).isTrue();
    }

    private static Observation obs(int i) {
        return new Observation("kws", "3", 1 + (i % 7), i % 50 == 0, OptionalDouble.of(0.9), false, false, false,
                Map.of("x", new double[] {i, i + 1.0}));
    }

    @Test
    void five_thousand_windows_across_three_broker_restarts_arrive_every_one() throws Exception {
        StepClock clock = new StepClock();
        TelemetryRecorder recorder = new TelemetryRecorder(store, "f", "d", Duration.ofSeconds(1), 100_000, clock);
        TelemetryPublisher publisher = new TelemetryPublisher(store, link::sendTelemetry);
        int windows = 5000;
        for (int i = 0; i < windows; i++) {
            if (i == 1000 || i == 2500 || i == 4000) {
                MQTT.broker().stop();
            }
            if (i == 1300 || i == 2800 || i == 4300) {
                MQTT.broker().start();
                awaitConnected();
            }
            recorder.record(obs(i));
            recorder.record(obs(i + 1));
            clock.advance(Duration.ofSeconds(1));
            assertThat(recorder.runOnce()).contains((long) i);
            publisher.runOnce();
        }
        awaitConnected();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while ((store.outboxSize() > 0 || received.size() < windows) && System.nanoTime() < deadline) {
            publisher.runOnce();
            Thread.sleep(20);
        }
        assertThat(store.outboxSize()).isZero();
        assertThat(received).hasSize(windows);
        for (long s = 0; s < windows; s++) {
            assertThat(received).as("sequence %d", s).contains(s);
        }
        assertThat(deliveries.get()).isGreaterThanOrEqualTo(windows); // duplicates possible, told apart by sequence
        assertThat(store.telemetryLost()).isZero();
    }

    @Test
    void a_full_outbox_drops_the_oldest_and_reports_how_many() throws Exception {
        StepClock clock = new StepClock();
        TelemetryRecorder recorder = new TelemetryRecorder(store, "f", "d", Duration.ofSeconds(1), 10, clock);
        TelemetryPublisher publisher = new TelemetryPublisher(store, link::sendTelemetry);
        MQTT.broker().stop();
        for (int i = 0; i < 15; i++) {
            recorder.record(obs(i));
            clock.advance(Duration.ofSeconds(1));
            recorder.runOnce();
            assertThat(publisher.runOnce()).isZero();
        }
        assertThat(store.outboxSize()).isEqualTo(10);
        assertThat(store.telemetryLost()).isEqualTo(5);
        MQTT.broker().start();
        awaitConnected();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (store.outboxSize() > 0 && System.nanoTime() < deadline) {
            publisher.runOnce();
            Thread.sleep(20);
        }
        recorder.record(obs(99));
        clock.advance(Duration.ofSeconds(1));
        recorder.runOnce();
        while ((store.outboxSize() > 0 || received.size() < 11) && System.nanoTime() < deadline) {
            publisher.runOnce();
            Thread.sleep(20);
        }
        // sequences 0..4 were dropped for space; 5..15 arrive, and the batches written after each drop say so (1 each)
        assertThat(received).containsExactlyInAnyOrder(5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L, 13L, 14L, 15L);
        assertThat(lostReported.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(5);
    }

    @Test
    void windows_aggregate_count_errors_latency_confidence_and_input_statistics() {
        StepClock clock = new StepClock();
        TelemetryRecorder recorder = new TelemetryRecorder(store, "f", "d", Duration.ofSeconds(10), 100, clock);
        for (int i = 0; i < 100; i++) {
            recorder.record(new Observation("kws", "3", i + 1, i < 5, OptionalDouble.of(0.5), i % 4 == 0, i == 7, i % 10 == 0,
                    Map.of("x", new double[] {i})));
        }
        assertThat(recorder.runOnce()).isEmpty();
        clock.advance(Duration.ofSeconds(10));
        long seq = recorder.runOnce().orElseThrow();
        TelemetryBatch b = MessageCodec.json().decode(store.peekOutbox(1).get(0).getValue(), TelemetryBatch.class);
        assertThat(b.sequence()).isEqualTo(seq);
        var r = b.records().get(0);
        assertThat(r.count()).isEqualTo(100);
        assertThat(r.errors()).isEqualTo(5);
        assertThat(r.escalations()).isEqualTo(10);
        assertThat(r.nonFinite()).isEqualTo(1);
        assertThat(r.lowConfidence()).isEqualTo(25);
        assertThat(r.latencyMillis().p50()).isEqualTo(50);
        assertThat(r.latencyMillis().p95()).isEqualTo(95);
        assertThat(r.latencyMillis().p99()).isEqualTo(99);
        assertThat(r.latencyMillis().max()).isEqualTo(100);
        assertThat(r.meanConfidence()).hasValue(0.5);
        assertThat(r.inputs().get("x").mean()).isEqualTo(49.5);
        assertThat(r.inputs().get("x").min()).isZero();
        assertThat(r.inputs().get("x").max()).isEqualTo(99);
        assertThat(r.windowEnd()).isEqualTo(r.windowStart().plusSeconds(10));
    }
}
