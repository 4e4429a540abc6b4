package io.edgefleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.testkit.Ports;
import java.io.IOException;
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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code edgefleet agent} as a real process: serving, graceful SIGTERM, and kill -9 in the middle of an activation. */
class AgentProcessTest {
    @TempDir
    Path dir;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @org.junit.jupiter.api.extension.RegisterExtension
    static final io.edgefleet.testkit.MosquittoExtension MQTT = new io.edgefleet.testkit.MosquittoExtension();

    @Test
    void a_killed_agent_is_marked_offline_by_its_last_will() throws Exception {
        Path models = Files.createDirectories(dir.resolve("models"));
        Files.move(SyntheticModels.classifierOnnx(dir), models.resolve("cls.onnx"));
        var states = new java.util.concurrent.LinkedBlockingQueue<io.edgefleet.protocols.messages.DeviceState>();
        var cloud = new org.eclipse.paho.mqttv5.client.MqttClient(MQTT.broker().url(), "cloud", new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
        cloud.setCallback(io.edgefleet.testkit.MqttCallbacks.onMessage((topic, m) -> states.add(io.edgefleet.protocols.messages.MessageCodec.json().decode(m.getPayload(), io.edgefleet.protocols.messages.DeviceState.class))));
        cloud.connect();
        // its own device id: other tests of this class leave a retained state for the default one
        cloud.subscribe(io.edgefleet.protocols.topics.Topic.state("local", "will-test").value(), 1);
        int port = Ports.freePort();
        Process p = start(dir.resolve("data"), models, port, "--mqtt", MQTT.broker().url(), "--device", "will-test");
        try {
            awaitReady(p, port);
            io.edgefleet.protocols.messages.DeviceState online = states.poll(30, TimeUnit.SECONDS);
            assertThat(online).isNotNull();
            assertThat(online.online()).isTrue();
            assertThat(online.models()).extracting(m -> m.model()).contains("cls");
            states.clear();
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // kill -9: no goodbye, the broker sends the will
            io.edgefleet.protocols.messages.DeviceState will = states.poll(30, TimeUnit.SECONDS);
            assertThat(will).isNotNull();
            assertThat(will.online()).isFalse();
        } finally {
            p.destroyForcibly();
            cloud.disconnect();
            cloud.close();
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(value = 15, unit = TimeUnit.MINUTES) // 4 agent JVMs and rate-limited downloads: 3 min measured at load 38
    void kill_9_during_a_download_resumes_after_the_restart_and_activates() throws Exception {
        // the cloud side: a signed 2 MiB model in a sync repository, served over HTTP
        var key = io.edgefleet.sync.signing.Keys.generate();
        Path pub = Files.writeString(dir.resolve("k1.pub"), io.edgefleet.sync.signing.Keys.encode(key.getPublic()));
        var chunks = new io.edgefleet.sync.chunks.ChunkStore(dir.resolve("repo/chunks"));
        var manifests = new io.edgefleet.sync.server.DirectoryManifests(dir.resolve("repo/manifests"));
        Path model = SyntheticModels.denseTflite(Files.createDirectories(dir.resolve("m")), 724);
        var m = new io.edgefleet.sync.ManifestBuilder(chunks, "dense", "2", "k1").variant("tflite-fp32", model, "tflite",
                java.util.Optional.of("2.6"), io.edgefleet.protocols.manifest.Precision.FP32, java.util.Optional.empty(), List.of(), List.of(),
                List.of()).build(java.time.Instant.now(), java.util.Optional.empty());
        manifests.put("dense", "2", io.edgefleet.protocols.messages.MessageCodec.json().encode(
                io.edgefleet.sync.signing.ManifestSigning.sign(m, key.getPrivate())));
        var sync = io.helidon.webserver.WebServer.builder().host("127.0.0.1").port(0)
                .routing(new io.edgefleet.sync.server.SyncRoutes(manifests, chunks, 8)::routing).build().start();
        var acks = new java.util.concurrent.LinkedBlockingQueue<io.edgefleet.protocols.messages.CommandAck>();
        var states = new java.util.concurrent.LinkedBlockingQueue<io.edgefleet.protocols.messages.DeviceState>();
        String stateTopic = io.edgefleet.protocols.topics.Topic.state("local", "agent").value();
        var cloud = new org.eclipse.paho.mqttv5.client.MqttClient(MQTT.broker().url(), "cloud-dl", new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
        cloud.setCallback(io.edgefleet.testkit.MqttCallbacks.onMessage((topic, msg) -> {
            if (topic.equals(stateTopic)) {
                states.add(io.edgefleet.protocols.messages.MessageCodec.json().decode(msg.getPayload(), io.edgefleet.protocols.messages.DeviceState.class));
            } else {
                acks.add(io.edgefleet.protocols.messages.MessageCodec.json().decode(msg.getPayload(), io.edgefleet.protocols.messages.CommandAck.class));
            }
        }));
        cloud.connect();
        cloud.subscribe(io.edgefleet.protocols.topics.Topic.commandAck("local", "agent").value(), 1);
        cloud.subscribe(stateTopic, 1);
        try {
            for (double killAt : new double[] {0.1, 0.4}) {
                downloadKilledAt(killAt, acks, states, cloud, sync.port(), pub);
            }
        } finally {
            cloud.disconnect();
            cloud.close();
            sync.stop();
        }
    }

    /** Starts an agent, sends a deploy, kills the agent once the download passed {@code killAt}, restarts it, waits for the activation. */
    private void downloadKilledAt(double killAt, java.util.concurrent.BlockingQueue<io.edgefleet.protocols.messages.CommandAck> acks,
            java.util.concurrent.BlockingQueue<io.edgefleet.protocols.messages.DeviceState> states,
            org.eclipse.paho.mqttv5.client.MqttClient cloud, int syncPort, Path pub) throws Exception {
        acks.clear();
        int port = Ports.freePort();
        Path data = dir.resolve("data-" + killAt);
        String[] flags = {"--mqtt", MQTT.broker().url(), "--sync-url", "http://127.0.0.1:" + syncPort, "--trust", "k1=" + pub,
            "--sync-rate", "200000", "--profile", "intel-nuc-13-pro-i5"};
        java.time.Instant startedAt = java.time.Instant.now().minusSeconds(1);
        Process p = start(data, null, port, flags);
        Process again = null;
        try {
            awaitReady(p, port);
            awaitOnline(states, startedAt); // the agent publishes "online" after subscribing to its command topic
            var deploy = io.edgefleet.protocols.messages.Command.deploy("dl-" + killAt, "ro-9", "dense", "2", true, java.time.Instant.now());
            var msg = new org.eclipse.paho.mqttv5.common.MqttMessage(io.edgefleet.protocols.messages.MessageCodec.json().encode(deploy));
            msg.setQos(1);
            cloud.publish(io.edgefleet.protocols.topics.Topic.command("local", "agent").value(), msg);
            double before = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (before < killAt && System.nanoTime() < deadline) {
                var a = acks.poll(1, TimeUnit.SECONDS);
                if (a != null && a.phase() == io.edgefleet.protocols.messages.AckPhase.DOWNLOADING) {
                    before = a.progress().orElse(0);
                }
            }
            assertThat(before).as("download under way").isBetween(killAt, 0.95);
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // kill -9 in the middle of the download
            acks.clear();
            again = start(data, null, port, flags);
            awaitReady(again, port);
            List<io.edgefleet.protocols.messages.CommandAck> after = new ArrayList<>();
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline && after.stream().noneMatch(a -> a.phase().terminal())) {
                var a = acks.poll(1, TimeUnit.SECONDS);
                if (a != null) {
                    after.add(a);
                }
            }
            assertThat(after).extracting(a -> a.phase()).contains(io.edgefleet.protocols.messages.AckPhase.ACTIVATED);
            double firstAfter = after.stream().filter(a -> a.phase() == io.edgefleet.protocols.messages.AckPhase.DOWNLOADING)
                    .mapToDouble(a -> a.progress().orElseThrow()).findFirst()
                    .orElseThrow(() -> new AssertionError("no downloading ack after the restart: " + after));
            assertThat(firstAfter).as("the resumed download starts from what was kept, not from zero").isGreaterThanOrEqualTo(before - 0.1);
            HttpResponse<String> meta = get(port, "/v2/models/dense");
            assertThat(meta.statusCode()).isEqualTo(200);
            assertThat(meta.body()).contains("\"versions\":[\"2\"]");
        } finally {
            p.destroyForcibly();
            if (again != null) {
                stop(again);
            }
        }
    }

    /** Waits for a retained-or-live "online" state produced after {@code since}; fails after 30 s. */
    private static void awaitOnline(java.util.concurrent.BlockingQueue<io.edgefleet.protocols.messages.DeviceState> states,
            java.time.Instant since) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            var st = states.poll(200, TimeUnit.MILLISECONDS);
            if (st != null && st.online() && !st.at().isBefore(since)) {
                return;
            }
        }
        throw new AssertionError("the agent did not report online within 30 s");
    }

    private Process start(Path data, Path models, int port, String... extra) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "agent", "--data-dir", data.toString(), "--http-port", Integer.toString(port), "--coap-port", "0"));
        if (models != null) {
            cmd.addAll(List.of("--models-dir", models.toString()));
        }
        cmd.addAll(List.of(extra));
        return new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("agent.log").toFile())).start();
    }

    private void awaitReady(Process p, int port) throws Exception {
        long deadline = System.nanoTime() + ChildJvm.PATIENCE.toNanos();
        while (System.nanoTime() < deadline) {
            assertThat(p.isAlive()).as("agent alive; log:%n%s", Files.readString(dir.resolve("agent.log"))).isTrue();
            try {
                if (get(port, "/v2/health/ready").statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("agent not ready within " + ChildJvm.PATIENCE + "; log:\n" + Files.readString(dir.resolve("agent.log")));
    }

    private HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> infer(int port, String model) throws IOException, InterruptedException {
        String body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}";
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/models/" + model + "/infer"))
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void stop(Process p) throws InterruptedException {
        p.destroy(); // SIGTERM: the agent drains and exits
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("agent did not stop within 30 s of SIGTERM");
        }
    }

    @Test
    void serves_over_http_and_exits_cleanly_on_sigterm() throws Exception {
        Path models = Files.createDirectories(dir.resolve("models"));
        Files.move(SyntheticModels.classifierOnnx(dir), models.resolve("cls.onnx"));
        int port = Ports.freePort();
        Process p = start(dir.resolve("data"), models, port);
        try {
            awaitReady(p, port);
            HttpResponse<String> r = infer(port, "cls");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("\"model_name\":\"cls\"", "\"model_version\":\"");
        } finally {
            stop(p);
        }
        assertThat(p.exitValue()).isIn(0, 130, 143);
    }

    /** Where an activation is, as seen from outside the agent. */
    enum Phase {
        /** the candidate is being loaded by the isolated verifier: a child JVM of the agent is alive */
        VERIFYING,
        /** the verified file is in place at {@code data/models/cls/VERSION.tflite} */
        PLACED,
        /** the agent logged "model cls: version VERSION active" (after the store recorded it) */
        ACTIVATED
    }

    @Test
    @org.junit.jupiter.api.Timeout(value = 15, unit = TimeUnit.MINUTES) // 9 agent JVMs and 6 verifier JVMs: 4 min measured at load 38 on 2 cores
    void kill_9_at_each_phase_of_an_activation_restarts_serving_a_complete_model() throws Exception {
        Path modelsV1 = Files.createDirectories(dir.resolve("models-v1"));
        Files.move(SyntheticModels.classifierOnnx(dir), modelsV1.resolve("cls.onnx"));
        Path modelsV2 = Files.createDirectories(dir.resolve("models-v2"));
        Path tflite = Files.move(SyntheticModels.classifierTflite(dir), modelsV2.resolve("cls.tflite"));
        String v1 = io.edgefleet.engines.ModelFiles.sha256(modelsV1.resolve("cls.onnx")).substring(0, 12);
        String v2 = io.edgefleet.engines.ModelFiles.sha256(tflite).substring(0, 12);
        int port = Ports.freePort();
        for (Phase phase : Phase.values()) {
            // a data folder of its own with version 1 active (the store keeps absolute paths: a copied folder would not be one)
            Path data = dir.resolve("data-" + phase);
            Process first = start(data, modelsV1, port);
            awaitReady(first, port);
            stop(first);
            long logFrom = Files.size(dir.resolve("agent.log"));
            Process p = start(data, modelsV2, port); // installs version 2 (another runtime) at start
            Path placed = data.resolve("models/cls/" + v2 + ".tflite");
            String activatedLine = "model cls: version " + v2 + " active";
            List<ProcessHandle> children = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            boolean reached = false;
            while (!reached && System.nanoTime() < deadline && p.isAlive()) {
                reached = switch (phase) {
                    case VERIFYING -> p.descendants().peek(children::add).findAny().isPresent();
                    case PLACED -> Files.exists(placed);
                    case ACTIVATED -> logSince(logFrom).contains(activatedLine);
                };
                if (!reached) {
                    Thread.sleep(2);
                }
            }
            p.descendants().forEach(children::add);
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // kill -9 at the observed phase
            children.forEach(ProcessHandle::destroyForcibly); // the verifier child, orphaned by the kill
            assertThat(reached).as("phase %s observed before the kill; log:%n%s", phase, logSince(logFrom)).isTrue();
            boolean placedAtDeath = Files.exists(placed);
            boolean loggedAtDeath = logSince(logFrom).contains(activatedLine);
            Process again = start(data, null, port);
            try {
                awaitReady(again, port);
                HttpResponse<String> r = infer(port, "cls");
                assertThat(r.statusCode()).as("after a kill at %s: %s", phase, r.body()).isEqualTo(200);
                String served = r.body().replaceAll(".*\"model_version\":\"([^\"]+)\".*", "$1");
                switch (phase) {
                    case VERIFYING -> {
                        assertThat(placedAtDeath).as("killed while verifying: nothing placed yet").isFalse();
                        assertThat(served).as("killed while verifying: the old version").isEqualTo(v1);
                    }
                    case PLACED -> assertThat(served).as("killed after placing: old or new, both complete").isIn(v1, v2);
                    case ACTIVATED -> assertThat(served).as("killed after the activation was recorded").isEqualTo(v2);
                }
                if (loggedAtDeath) {
                    assertThat(served).as("an activation logged before the kill survives it").isEqualTo(v2);
                }
                if (placedAtDeath) {
                    try (var staging = Files.list(data.resolve("staging"))) {
                        assertThat(staging.toList()).as("half-written files swept after a kill at %s", phase).isEmpty();
                    }
                }
            } finally {
                stop(again);
            }
        }
    }

    private String logSince(long offset) throws IOException {
        byte[] all = Files.readAllBytes(dir.resolve("agent.log"));
        return new String(all, (int) Math.min(offset, all.length), (int) Math.max(0, all.length - offset), StandardCharsets.UTF_8);
    }
}
