package io.edgefleet.bench;

import io.edgefleet.agent.AgentConfig;
import io.edgefleet.agent.EdgeAgent;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.Engines;
import io.edgefleet.engines.LoadedModel;
import io.edgefleet.engines.TensorBuffers;
import io.edgefleet.engines.bench.LatencyHarness;
import io.edgefleet.protocols.coap.CoapResources;
import io.edgefleet.protocols.oip.Encoded;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.OipCodec;
import io.edgefleet.protocols.topics.ReplySpace;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.transport.mqtt.Metadata;
import io.edgefleet.transport.mqtt.MqttSession;
import io.edgefleet.transport.mqtt.SessionConfig;
import java.util.concurrent.CountDownLatch;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;

/**
 * The agent's overhead per protocol: the same model through HTTP JSON, HTTP binary, CoAP and
 * MQTT, against the engine called in-process (the baseline of {@code model bench}), at each
 * concurrency, in one run. The HTTP paths are driven from a separate JVM ({@link HttpLoadGenerator}
 * on loopback), so the agent's process carries only the agent; the same HTTP JSON request from a
 * client inside the agent's JVM is kept as a row of its own to show what an in-process client adds.
 * CoAP and MQTT clients still run in the agent's JVM (marked so). A benchmark, not a test.
 */
public final class AgentOverhead {
    /** Latency percentiles (µs) and calls per second of one path at one concurrency. */
    public record Row(String path, int concurrency, double p50Micros, double p99Micros, double callsPerSecond) {
    }

    private interface Call {
        void call() throws Exception;
    }

    private final int iterations;
    private final int warmup;

    public AgentOverhead(int iterations, int warmup) {
        this.iterations = iterations;
        this.warmup = warmup;
    }

    public List<Row> run(Path model, Path dataDir, Optional<String> mqttUrl, int[] concurrency, PrintWriter progress) throws Exception {
        List<Row> rows = new ArrayList<>();
        AgentConfig c = AgentConfig.defaults(dataDir).withModelsDir(model.getParent()).withHttp("127.0.0.1", 0).withCoapPort(0)
                .withQueue(2, 256);
        if (mqttUrl.isPresent()) {
            c = c.withMqtt(mqttUrl.get());
        }
        String name = model.getFileName().toString().replaceFirst("\\.[^.]+$", "");
        try (EdgeAgent agent = EdgeAgent.start(c);
                LoadedModel raw = Engines.forFile(model).load(model, EngineOptions.defaults().withPoolSize(2))) {
            List<InferTensor> inputs = TensorBuffers.zeroInputs(raw.signature().inputs());
            OipCodec codec = OipCodec.create();
            byte[] json = codec.encodeRequest(new InferRequest(Optional.empty(), io.edgefleet.protocols.oip.Parameters.EMPTY, inputs,
                    List.of()), false).body();
            Encoded binary = codec.encodeRequest(new InferRequest(Optional.empty(),
                    io.edgefleet.protocols.oip.Parameters.of(io.edgefleet.protocols.oip.Parameters.BINARY_DATA_OUTPUT, true), inputs, List.of()), true);
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            URI uri = URI.create("http://127.0.0.1:" + agent.httpPort() + "/v2/models/" + name + "/infer");
            MqttRequester mqtt = null;
            if (mqttUrl.isPresent()) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (!agent.mqtt().orElseThrow().isConnected() && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                mqtt = new MqttRequester(mqttUrl.get(), c.fleet(), Topic.infer(c.fleet(), c.device(), name).value());
            }
            for (int conc : concurrency) {
                progress.printf(Locale.ROOT, "# concurrency %d...%n", conc);
                progress.flush();
                rows.add(measure("engine (in-process)", conc, () -> raw.infer(inputs)));
                rows.add(external("HTTP JSON", conc, agent.httpPort(), uri.getPath(), json, "application/json", List.of(), dataDir));
                rows.add(external("HTTP binary", conc, agent.httpPort(), uri.getPath(), binary.body(), "application/octet-stream",
                        List.of(OipCodec.HEADER_CONTENT_LENGTH + ": " + binary.headerLength().getAsInt()), dataDir));
                rows.add(measure("HTTP JSON (in-JVM client)", conc, () -> check(http.send(HttpRequest.newBuilder(uri)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(json)).build(), HttpResponse.BodyHandlers.ofByteArray()).statusCode())));
                List<CoapClient> coaps = new java.util.concurrent.CopyOnWriteArrayList<>();
                ThreadLocal<CoapClient> coap = ThreadLocal.withInitial(() -> {
                    CoapClient cc = new CoapClient("coap://127.0.0.1:" + agent.coapPort().getAsInt() + "/infer/" + name);
                    cc.setTimeout(10_000L);
                    // one UDP endpoint per client thread: block-wise transfers are keyed by peer address
                    cc.setEndpoint(new org.eclipse.californium.core.network.CoapEndpoint.Builder().build());
                    coaps.add(cc);
                    return cc;
                });
                rows.add(measure("CoAP JSON (in-JVM client)", conc, () -> {
                    CoapResponse r = coap.get().post(json, CoapResources.FORMAT_JSON);
                    if (r == null || !r.isSuccess()) {
                        throw new IllegalStateException("CoAP answer " + (r == null ? "timeout" : r.getCode()));
                    }
                }));
                coaps.forEach(cc -> {
                    cc.getEndpoint().destroy();
                    cc.shutdown();
                });
                if (mqtt != null) {
                    MqttRequester m = mqtt;
                    rows.add(measure("MQTT JSON (in-JVM client)", conc, () -> m.request(json)));
                }
            }
            if (mqtt != null) {
                mqtt.close();
            }
        }
        return rows;
    }

    private static void check(int status) {
        if (status != 200) {
            throw new IllegalStateException("HTTP " + status);
        }
    }

    /**
     * The same POST from {@link HttpLoadGenerator} in a second JVM (this JVM's java and class path,
     * a small serial-GC heap): {@code threads} keep-alive connections, the same warm-up and timed
     * calls as the in-process rows.
     */
    private Row external(String path, int threads, int port, String uriPath, byte[] body, String contentType, List<String> headers, Path dir)
            throws Exception {
        java.nio.file.Files.createDirectories(dir);
        Path bodyFile = java.nio.file.Files.write(java.nio.file.Files.createTempFile(dir, "request-", ".bin"), body);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:+UseSerialGC",
                "-Xmx64m", "-cp", System.getProperty("java.class.path"), HttpLoadGenerator.class.getName(), "127.0.0.1",
                Integer.toString(port), uriPath, bodyFile.toString(), contentType, Integer.toString(threads), Integer.toString(warmup),
                Integer.toString(iterations)));
        cmd.addAll(headers);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException(path + ": the load generator failed: " + out);
        }
        String line = out.lines().filter(l -> l.startsWith("p50_us=")).reduce((a, b) -> b)
                .orElseThrow(() -> new IllegalStateException(path + ": no result from the load generator: " + out));
        java.util.Map<String, Double> v = new java.util.HashMap<>();
        for (String kv : line.split(" ")) {
            String[] parts = kv.split("=");
            v.put(parts[0], Double.parseDouble(parts[1]));
        }
        return new Row(path + " (separate JVM)", threads, v.get("p50_us"), v.get("p99_us"), v.get("calls_per_s"));
    }

    private Row measure(String path, int threads, Call call) {
        LatencyHarness.Stats s = LatencyHarness.run(path, java.util.Collections.nCopies(threads, call::call), warmup, iterations);
        return new Row(path, threads, s.p50Micros(), s.p99Micros(), s.callsPerSecond());
    }

    public static void print(List<Row> rows, PrintWriter out) {
        out.printf(Locale.ROOT, "%-32s %4s | %10s %10s %10s | %-13s | %s%n", "path", "conc", "p50 us", "p99 us", "calls/s", "p50 vs engine",
                "p50 overhead us");
        for (Row r : rows) {
            double base = rows.stream().filter(x -> x.concurrency() == r.concurrency() && x.path().startsWith("engine"))
                    .mapToDouble(Row::p50Micros).findFirst().orElse(r.p50Micros());
            out.printf(Locale.ROOT, "%-32s %4d | %10.1f %10.1f %10.0f | %12.2fx | %.1f%n", r.path(), r.concurrency(), r.p50Micros(), r.p99Micros(),
                    r.callsPerSecond(), r.p50Micros() / base, r.p50Micros() - base);
        }
        out.flush();
    }

    /**
     * Request/response over MQTT 5 on the one session: answers come to this requester's own reply
     * space ({@code ef/replies/{fleet}/{requester}/...}, the only place an agent answers), matched by
     * correlation id.
     */
    static final class MqttRequester implements AutoCloseable {
        private final MqttSession session;
        private final String topic;
        private final String replies;
        private final ConcurrentHashMap<String, CompletableFuture<byte[]>> pending = new ConcurrentHashMap<>();
        private final AtomicLong ids = new AtomicLong();

        MqttRequester(String url, String fleet, String topic) throws InterruptedException {
            this.topic = topic;
            String requester = "bench-" + System.nanoTime();
            ReplySpace space = new ReplySpace(fleet, requester);
            this.replies = space.topic() + "/answers";
            session = MqttSession.create(SessionConfig.of(url, requester).withCleanStart(true, 0).withSubscription(space.filter()), (m, ack) -> {
                CompletableFuture<byte[]> f = m.metadata().correlationData()
                        .map(c -> pending.remove(new String(c, java.nio.charset.StandardCharsets.UTF_8))).orElse(null);
                if (f != null) {
                    f.complete(m.payload());
                }
            });
            CountDownLatch subscribed = new CountDownLatch(1);
            session.listener(new MqttSession.Listener() {
                @Override
                public void subscribed(boolean first) {
                    subscribed.countDown();
                }
            });
            session.start();
            if (!subscribed.await(20, TimeUnit.SECONDS)) {
                session.close();
                throw new IllegalStateException("MQTT requester not connected to " + url + " within 20 s");
            }
        }

        void request(byte[] body) throws Exception {
            String id = Long.toString(ids.incrementAndGet());
            CompletableFuture<byte[]> f = new CompletableFuture<>();
            pending.put(id, f);
            if (!session.publish(topic, body, Metadata.qos1().withResponseTopic(replies)
                    .withCorrelationData(id.getBytes(java.nio.charset.StandardCharsets.UTF_8)))) {
                pending.remove(id);
                throw new IllegalStateException("request not acknowledged by the broker");
            }
            f.get(10, TimeUnit.SECONDS);
        }

        @Override
        public void close() {
            session.close();
        }
    }
}
