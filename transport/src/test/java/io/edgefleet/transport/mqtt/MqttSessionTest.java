package io.edgefleet.transport.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.testkit.MosquittoBroker;
import io.edgefleet.testkit.MosquittoExtension;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The one MQTT session against a real Mosquitto: round trip with MQTT 5 properties, reconnect, will, manual acks, packet size, close. */
class MqttSessionTest {
    @RegisterExtension
    static final MosquittoExtension MOSQUITTO = new MosquittoExtension();

    private final List<MqttSession> sessions = new ArrayList<>();

    @AfterEach
    void closeAll() {
        sessions.forEach(MqttSession::close);
    }

    private MqttSession started(SessionConfig c, MqttSession.Handler h) {
        MqttSession s = MqttSession.create(c.withReconnect(Duration.ofMillis(250), Duration.ofSeconds(1)), h);
        sessions.add(s);
        s.start();
        await("connected " + c.clientId(), s::isConnected);
        return s;
    }

    private static SessionConfig config(MosquittoBroker b, String id) {
        return SessionConfig.of(b.url(), id).withCleanStart(true, 0);
    }

    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        assertThat(condition.getAsBoolean()).as(what + " within 20 s").isTrue();
    }

    /** Waits until {@code s} holds its subscriptions: a probe it publishes to {@code probeTopic} comes back through {@code inbox}. */
    static void awaitSubscribed(MqttSession s, String probeTopic, BlockingQueue<Delivery> inbox) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            s.publish(probeTopic, "probe".getBytes(StandardCharsets.UTF_8), false);
            Delivery d = inbox.poll(200, TimeUnit.MILLISECONDS);
            if (d != null && d.topic().equals(probeTopic)) {
                inbox.clear();
                return;
            }
        }
        throw new AssertionError("no probe came back on " + probeTopic + " within 20 s");
    }

    /** The next delivery that is not a late probe of {@link #awaitSubscribed}, waiting at most 20 s; null when none came. */
    static Delivery next(BlockingQueue<Delivery> q) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            Delivery d = q.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (d == null || !"probe".equals(new String(d.payload(), StandardCharsets.UTF_8))) {
                return d;
            }
        }
    }

    @Test
    void a_message_arrives_with_its_parsed_topic_payload_and_mqtt5_properties(MosquittoBroker broker) throws Exception {
        BlockingQueue<Delivery> inbox = new LinkedBlockingQueue<>();
        String topic = Topic.infer("plant-1", "cam-7", "kws").value();
        MqttSession receiver = started(config(broker, "rx-props").withSubscription(Topic.inferFilter("plant-1", "cam-7"))
                .withSubscription("ef/replies/plant-1/cam-8/#"), (d, ack) -> inbox.add(d));
        MqttSession sender = started(config(broker, "tx-props"), (d, ack) -> { });
        awaitSubscribed(sender, "ef/replies/plant-1/cam-8/probe", inbox);

        Metadata meta = Metadata.qos1().withResponseTopic("ef/replies/plant-1/cam-8/r1").withCorrelationData(new byte[] {1, 2, 3})
                .withUserProperty("status", "200").withUserProperty("status", "again").withContentType("application/json")
                .withMessageExpirySeconds(60);
        assertThat(sender.publish(topic, "{\"x\":1}".getBytes(StandardCharsets.UTF_8), meta)).isTrue();

        Delivery d = next(inbox);
        assertThat(d).as("the request within 20 s").isNotNull();
        assertThat(d.topic()).isEqualTo(topic);
        assertThat(d.parsed()).contains(Topic.parse(topic));
        assertThat(new String(d.payload(), StandardCharsets.UTF_8)).isEqualTo("{\"x\":1}");
        assertThat(d.metadata().qos()).isEqualTo(1);
        assertThat(d.metadata().retained()).isFalse();
        assertThat(d.metadata().responseTopic()).contains("ef/replies/plant-1/cam-8/r1");
        assertThat(d.metadata().correlationData().orElseThrow()).containsExactly(1, 2, 3);
        assertThat(d.metadata().userProperties()).containsExactly(new UserProperty("status", "200"), new UserProperty("status", "again"));
        assertThat(d.metadata().userProperty("status")).contains("200");
        assertThat(d.metadata().contentType()).contains("application/json");
        assertThat(d.metadata().messageExpirySeconds().orElseThrow()).isBetween(1L, 60L);

        // A reply topic is not a device topic: delivered with its raw string only.
        assertThat(sender.publish("ef/replies/plant-1/cam-8/r1", new byte[] {7}, false)).isTrue();
        Delivery reply = next(inbox);
        assertThat(reply).isNotNull();
        assertThat(reply.topic()).isEqualTo("ef/replies/plant-1/cam-8/r1");
        assertThat(reply.parsed()).isEmpty();
    }

    @Test
    void subscriptions_come_back_after_a_broker_restart_that_lost_the_session(MosquittoBroker broker) throws Exception {
        BlockingQueue<Delivery> inbox = new LinkedBlockingQueue<>();
        AtomicInteger connects = new AtomicInteger();
        AtomicInteger firsts = new AtomicInteger();
        String topic = Topic.telemetry("plant-1", "cam-1").value();
        MqttSession receiver = MqttSession.create(config(broker, "rx-restart").withSubscription(topic)
                .withReconnect(Duration.ofMillis(250), Duration.ofSeconds(1)), (d, ack) -> inbox.add(d));
        sessions.add(receiver);
        receiver.listener(new MqttSession.Listener() {
            @Override
            public void subscribed(boolean first) {
                connects.incrementAndGet();
                if (first) {
                    firsts.incrementAndGet();
                }
            }
        });
        receiver.start();
        MqttSession sender = started(config(broker, "tx-restart"), (d, ack) -> { });
        await("first subscription", () -> connects.get() == 1);
        awaitSubscribed(sender, topic, inbox);

        broker.kill(); // nothing saved: the broker forgets the clean sessions and their subscriptions anyway
        await("disconnected", () -> !receiver.isConnected());
        broker.start();
        await("reconnected and subscribed again", () -> connects.get() == 2 && sender.isConnected());
        awaitSubscribed(sender, topic, inbox);
        assertThat(firsts.get()).as("only the first connect is the first").isEqualTo(1);
    }

    @Test
    void the_will_is_published_when_the_connection_is_lost_and_not_after_a_close(MosquittoBroker broker) throws Exception {
        BlockingQueue<Delivery> inbox = new LinkedBlockingQueue<>();
        String state = Topic.state("plant-1", "will-1").value();
        MqttSession watcher = started(config(broker, "will-watcher").withSubscription(state), (d, ack) -> inbox.add(d));
        AtomicInteger willAsked = new AtomicInteger();
        MqttSession device = started(config(broker, "will-device").withWill(() -> {
            willAsked.incrementAndGet();
            return new Will(state, "offline".getBytes(StandardCharsets.UTF_8), true);
        }), (d, ack) -> { });
        awaitSubscribed(device, state, inbox);

        device.crash();
        Delivery will = next(inbox);
        assertThat(will).as("the will within 20 s").isNotNull();
        assertThat(new String(will.payload(), StandardCharsets.UTF_8)).isEqualTo("offline");
        assertThat(willAsked.get()).isEqualTo(1);

        MqttSession polite = started(config(broker, "will-polite").withWill(() -> new Will(state, "gone".getBytes(StandardCharsets.UTF_8), true)),
                (d, ack) -> { });
        polite.close(() -> polite.publish(state, "bye".getBytes(StandardCharsets.UTF_8), true));
        Delivery bye = next(inbox);
        assertThat(bye).isNotNull();
        assertThat(new String(bye.payload(), StandardCharsets.UTF_8)).isEqualTo("bye");
        // A close sends DISCONNECT (reason 0): no will follows the last words. A marker published after
        // them arrives next, so a will (queued before the marker) would have come first.
        watcher.publish(state, "marker".getBytes(StandardCharsets.UTF_8), false);
        Delivery next = next(inbox);
        assertThat(next).isNotNull();
        assertThat(new String(next.payload(), StandardCharsets.UTF_8)).isEqualTo("marker");
    }

    @Test
    void an_unacknowledged_message_comes_again_on_the_resumed_session(MosquittoBroker broker) throws Exception {
        BlockingQueue<Delivery> inbox = new LinkedBlockingQueue<>();
        List<MqttSession.Ack> held = new java.util.concurrent.CopyOnWriteArrayList<>();
        String topic = Topic.telemetry("plant-1", "ack-1").value();
        SessionConfig persistent = SessionConfig.of(broker.url(), "rx-acks").withCleanStart(false, 3600).withSubscription(topic)
                .withManualAcks(true);
        MqttSession first = started(persistent, (d, ack) -> {
            inbox.add(d);
            held.add(ack);
        });
        MqttSession sender = started(config(broker, "tx-acks"), (d, ack) -> { });
        awaitSubscribed(sender, topic, inbox);
        held.forEach(MqttSession.Ack::ack);
        held.clear();

        assertThat(sender.publish(topic, "batch-1".getBytes(StandardCharsets.UTF_8), false)).isTrue();
        Delivery d = next(inbox);
        assertThat(d).isNotNull();
        first.crash(); // never acknowledged

        BlockingQueue<Delivery> again = new LinkedBlockingQueue<>();
        MqttSession second = started(persistent, (m, ack) -> {
            ack.ack(); // before the test thread sees it: it closes the session next, and an ack after close is lost
            again.add(m);
        });
        Delivery redelivered = next(again);
        assertThat(redelivered).as("the unacknowledged batch again within 20 s").isNotNull();
        assertThat(new String(redelivered.payload(), StandardCharsets.UTF_8)).isEqualTo("batch-1");
        second.close();
        // ... and once acknowledged it does not come a third time.
        BlockingQueue<Delivery> third = new LinkedBlockingQueue<>();
        MqttSession last = started(persistent, (m, ack) -> {
            ack.ack();
            third.add(m);
        });
        assertThat(last.publish(topic, "marker".getBytes(StandardCharsets.UTF_8), false)).isTrue();
        Delivery next = next(third);
        assertThat(next).isNotNull();
        assertThat(new String(next.payload(), StandardCharsets.UTF_8)).isEqualTo("marker");
    }

    @Test
    void the_broker_drops_a_publish_larger_than_the_announced_maximum_packet_size(MosquittoBroker broker) throws Exception {
        BlockingQueue<Delivery> inbox = new LinkedBlockingQueue<>();
        String topic = Topic.infer("plant-1", "small-1", "kws").value();
        MqttSession small = started(config(broker, "rx-small").withMaximumPacketSize(1024).withSubscription(topic), (d, ack) -> inbox.add(d));
        MqttSession sender = started(config(broker, "tx-small"), (d, ack) -> { });
        awaitSubscribed(sender, topic, inbox);
        assertThat(sender.publish(topic, new byte[4096], false)).as("the broker takes it").isTrue();
        assertThat(sender.publish(topic, new byte[100], false)).isTrue();
        Delivery d = next(inbox);
        assertThat(d).isNotNull();
        assertThat(d.payload()).as("the large one never reached the receiver; the small one after it did").hasSize(100);
        assertThat(small.isConnected()).isTrue();
    }

    @Test
    void a_session_closed_for_good_stays_closed_and_its_client_id_is_free(MosquittoBroker broker) throws Exception {
        MqttSession old = started(config(broker, "closing"), (d, ack) -> { });
        old.close();
        assertThat(old.isConnected()).isFalse();
        assertThat(old.publish("ef/v1/plant-1/x/telemetry", new byte[1], false)).as("offline publish is refused, not buffered").isFalse();
        BlockingQueue<Delivery> inbox = new LinkedBlockingQueue<>();
        MqttSession successor = started(config(broker, "closing").withSubscription("t/closing"), (d, ack) -> inbox.add(d));
        broker.restart(); // a reconnect window for the old client, had it kept trying
        await("successor back", successor::isConnected);
        awaitSubscribed(successor, "t/closing", inbox);
        assertThat(old.isConnected()).isFalse();
    }

    /**
     * Paho 1.2.5 keeps an unacknowledged PUBLISH with the old connection's topic alias and no topic
     * name and resends it after a reconnect: Mosquitto (topic aliases on by default) calls that a
     * protocol error, at every reconnect. The session must come back and publish again.
     */
    @Test
    void a_publish_in_flight_when_the_broker_dies_does_not_lock_the_session_out(MosquittoBroker broker) throws Exception {
        BlockingQueue<Delivery> inbox = new LinkedBlockingQueue<>();
        String topic = Topic.telemetry("plant-1", "alias-1").value();
        MqttSession watcher = started(SessionConfig.of(broker.url(), "alias-watcher").withCleanStart(false, 3600).withSubscription(topic),
                (d, ack) -> inbox.add(d));
        MqttSession device = started(SessionConfig.of(broker.url(), "alias-device").withCleanStart(false, 3600), (d, ack) -> { });
        awaitSubscribed(device, topic, inbox); // the topic now has an alias on this connection

        long pid = ProcessHandle.current().children().filter(h -> h.info().commandLine().orElse("").contains(broker.folder().toString()))
                .findFirst().orElseThrow().pid();
        assertThat(new ProcessBuilder("kill", "-STOP", Long.toString(pid)).start().waitFor()).isZero(); // frozen: no PUBACK
        java.util.concurrent.atomic.AtomicBoolean delivered = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread publisher = Thread.ofPlatform().start(() -> delivered.set(device.publish(topic, "in-flight".getBytes(StandardCharsets.UTF_8), false)));
        // Paho stores the PUBLISH (with its alias) in the calling thread before that thread waits for the PUBACK.
        await("the publish waiting for its PUBACK", () -> publisher.getState() == Thread.State.TIMED_WAITING
                || publisher.getState() == Thread.State.WAITING);
        broker.kill();
        publisher.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(delivered.get()).as("the publish in flight reported as not delivered").isFalse();
        broker.start();

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        boolean back = false;
        while (!back && System.nanoTime() < deadline) {
            if (device.publish(topic, "after".getBytes(StandardCharsets.UTF_8), false)) {
                Delivery d = inbox.poll(500, TimeUnit.MILLISECONDS);
                back = d != null && new String(d.payload(), StandardCharsets.UTF_8).equals("after");
            } else {
                Thread.sleep(100);
            }
        }
        assertThat(back).as("the device publishes again after the broker restart within 20 s").isTrue();
        assertThat(watcher.isConnected()).isTrue();
    }

    @Test
    void tcp_and_ssl_urls_must_match_the_tls_setting() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SessionConfig.of("ssl://127.0.0.1:8883", "x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs a TLS context");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SessionConfig.of("tcp://127.0.0.1:1883", "x",
                java.util.Optional.of(() -> { throw new AssertionError("not called"); })))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("plain tcp://");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SessionConfig.of("ws://127.0.0.1:1883", "x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tcp://host:port or ssl://host:port");
    }

    /**
     * A broker that accepts the TCP connection but never sends CONNACK (overloaded, half-started, a proxy in
     * front of a dead broker), then recovers: the session connects once it has. Paho leaves its client
     * "connecting" after a CONNACK time-out (eclipse-paho/paho.mqtt.java#81), and every later attempt failed
     * with "Connect already in progress" for as long as that socket stayed open (94 s seen for the control
     * plane after a Mosquitto restart).
     */
    @Test
    void a_broker_that_never_answered_connect_is_reached_once_it_answers(MosquittoBroker broker) throws Exception {
        int brokerPort = java.net.URI.create(broker.url()).getPort();
        java.util.concurrent.atomic.AtomicBoolean silent = new java.util.concurrent.atomic.AtomicBoolean(true);
        AtomicInteger silenced = new AtomicInteger();
        List<java.net.Socket> held = java.util.Collections.synchronizedList(new ArrayList<>());
        try (java.net.ServerSocket front = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread.ofPlatform().daemon().start(() -> {
                while (!front.isClosed()) {
                    try {
                        java.net.Socket in = front.accept();
                        held.add(in);
                        if (silent.get()) {
                            silenced.incrementAndGet(); // read nothing, answer nothing, keep it open
                            continue;
                        }
                        java.net.Socket out = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), brokerPort);
                        held.add(out);
                        Thread.ofPlatform().daemon().start(() -> pipe(in, out));
                        Thread.ofPlatform().daemon().start(() -> pipe(out, in));
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            });
            MqttSession s = MqttSession.create(SessionConfig.of("tcp://127.0.0.1:" + front.getLocalPort(), "no-connack")
                    .withCleanStart(true, 0).withTimeouts(30, 1, Duration.ofSeconds(5))
                    .withReconnect(Duration.ofMillis(250), Duration.ofSeconds(1)), (d, ack) -> { });
            sessions.add(s);
            s.start();
            await("two connect attempts timed out on the silent broker", () -> silenced.get() >= 2);
            assertThat(s.isConnected()).isFalse();
            silent.set(false);
            await("connected once the broker answers", s::isConnected);
        } finally {
            for (java.net.Socket k : held) {
                try {
                    k.close();
                } catch (java.io.IOException ignored) {
                    // closing
                }
            }
        }
    }

    private static void pipe(java.net.Socket from, java.net.Socket to) {
        try {
            from.getInputStream().transferTo(to.getOutputStream());
        } catch (java.io.IOException e) {
            // one side closed
        }
    }
}
