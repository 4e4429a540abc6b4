package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.agent.mqtt.MqttLink;
import io.edgefleet.agent.serving.OverloadedException;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.coap.CoapResources;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.testkit.MosquittoExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * An overloaded agent tells every client when to come back: a request refused because the model's
 * queue is full (429) or the agent is overloaded or late (503) carries {@code Retry-After} over
 * HTTP, Max-Age over CoAP and the user property {@code retry-after} over MQTT 5. The model's single
 * worker is kept busy by in-process requests, so the protocol requests meet a full queue.
 */
class RetryAfterTest {
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    @TempDir
    static Path dir;
    static EdgeAgent agent;
    static final AtomicBoolean pressing = new AtomicBoolean(true);
    static final List<Thread> pressure = new ArrayList<>();
    static final String LIGHT = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,1024],\"datatype\":\"FP32\",\"data\":["
            + String.join(",", java.util.Collections.nCopies(1024, "0.5")) + "]}]}";

    @BeforeAll
    static void start() throws Exception {
        Path models = Files.createDirectories(dir.resolve("models"));
        Files.move(SyntheticModels.denseOnnx(dir, 1024), models.resolve("dense.onnx"));
        agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("data")).withModelsDir(models).withHttp("127.0.0.1", 0).withCoapPort(0)
                .withIdentity("plant-1", "dev-1").withMqtt(MQTT.broker().url()).withQueue(1, 1));
        InferRequest heavy = InferRequest.of(new InferTensor("x", TensorData.ofFloats(new long[] {256, 1024}, new float[256 * 1024])));
        for (int i = 0; i < 3; i++) { // more senders than the queue holds: it stays full while they run
            pressure.add(Thread.ofPlatform().daemon().name("pressure-" + i).start(() -> {
                while (pressing.get()) {
                    try {
                        agent.inference().infer("dense", Optional.empty(), heavy);
                    } catch (OverloadedException e) {
                        Thread.onSpinWait();
                    }
                }
            }));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!agent.mqtt().orElseThrow().isSubscribed()) {
            assertThat(System.nanoTime()).as("agent subscribed at the broker within 20 s").isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        pressing.set(false);
        for (Thread t : pressure) {
            t.join(30_000);
        }
        if (agent != null) {
            agent.close();
        }
    }

    /** Retries {@code attempt} until it returns a refusal, at most 300 times or 60 s. */
    private static <T> T firstRefusal(java.util.concurrent.Callable<Optional<T>> attempt) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (int i = 0; i < 300 && System.nanoTime() < deadline; i++) {
            Optional<T> r = attempt.call();
            if (r.isPresent()) {
                return r.get();
            }
        }
        throw new AssertionError("no 429/503 within 300 requests while the queue was kept full");
    }

    @Test
    void http_429_and_503_carry_retry_after() throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        URI uri = URI.create("http://127.0.0.1:" + agent.httpPort() + "/v2/models/dense/infer");
        HttpResponse<String> refused = firstRefusal(() -> {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString(LIGHT)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 429 || r.statusCode() == 503 ? Optional.of(r) : Optional.empty();
        });
        assertThat(refused.headers().firstValue("Retry-After")).as(refused.statusCode() + " " + refused.body()).contains("1");
        assertThat(refused.body()).contains("\"error\"");
    }

    @Test
    void coap_4_29_and_5_03_carry_max_age() throws Exception {
        CoapClient c = new CoapClient("coap://127.0.0.1:" + agent.coapPort().getAsInt() + "/infer/dense");
        c.setTimeout(10_000L);
        try {
            CoapResponse refused = firstRefusal(() -> {
                CoapResponse r = c.post(LIGHT, CoapResources.FORMAT_JSON);
                assertThat(r).as("a CoAP response within 10 s").isNotNull();
                return r.getCode() == ResponseCode.TOO_MANY_REQUESTS || r.getCode() == ResponseCode.SERVICE_UNAVAILABLE ? Optional.of(r)
                        : Optional.empty();
            });
            assertThat(refused.getOptions().getMaxAge()).as(refused.getCode() + " " + refused.getResponseText()).isEqualTo(1L);
        } finally {
            c.shutdown();
        }
    }

    @Test
    void mqtt_429_and_503_answers_carry_the_retry_after_user_property() throws Exception {
        BlockingQueue<MqttMessage> replies = new LinkedBlockingQueue<>();
        MqttClient client = new MqttClient(MQTT.broker().url(), "retry-after-client", new MemoryPersistence());
        client.setCallback(io.edgefleet.testkit.MqttCallbacks.onMessage((topic, m) -> replies.add(m)));
        client.connect();
        client.subscribe(new io.edgefleet.protocols.topics.ReplySpace("plant-1", "tester").filter(), 1);
        try {
            Map<String, String> refused = firstRefusal(() -> {
                MqttMessage m = new MqttMessage(LIGHT.getBytes(StandardCharsets.UTF_8));
                m.setQos(1);
                MqttProperties p = new MqttProperties();
                p.setResponseTopic(new io.edgefleet.protocols.topics.ReplySpace("plant-1", "tester").topic() + "/retry/1");
                p.setCorrelationData("c".getBytes(StandardCharsets.UTF_8));
                m.setProperties(p);
                client.publish(Topic.infer("plant-1", "dev-1", "dense").value(), m);
                MqttMessage reply = replies.poll(20, TimeUnit.SECONDS);
                assertThat(reply).as("an MQTT answer within 20 s").isNotNull();
                Map<String, String> props = reply.getProperties().getUserProperties().stream()
                        .collect(Collectors.toMap(UserProperty::getKey, UserProperty::getValue, (a, b) -> a));
                String status = props.getOrDefault(MqttLink.STATUS, "");
                return status.equals("429") || status.equals("503") ? Optional.of(props) : Optional.empty();
            });
            assertThat(refused).as(refused.toString()).containsEntry(MqttLink.RETRY_AFTER, "1");
        } finally {
            client.disconnect();
            client.close();
        }
    }
}
