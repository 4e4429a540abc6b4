package io.edgefleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.agent.AgentConfig;
import io.edgefleet.agent.EdgeAgent;
import io.edgefleet.agent.slots.Watchdog;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.messages.Command;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.sync.signing.Keys;
import io.edgefleet.testkit.MosquittoExtension;
import io.edgefleet.testkit.MqttCallbacks;
import io.edgefleet.testkit.Ports;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code edgefleet cloud} as a real process, killed with SIGKILL in the middle of a rollout's second wave. */
class CloudProcessTest {
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    @TempDir
    Path dir;

    private Process start(int port) throws IOException {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "cloud", "--data-dir", dir.resolve("cloud").toString(),
                "--http-port", Integer.toString(port), "--mqtt", MQTT.broker().url());
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("cloud.log").toFile()))
                .start();
    }

    private CloudClient awaitUp(Process p, int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Path token = dir.resolve("cloud/tokens/operator.token");
        while (System.nanoTime() < deadline) {
            assertThat(p.isAlive()).as("control plane alive; log:%n%s", Files.readString(dir.resolve("cloud.log"))).isTrue();
            if (Files.exists(token) && Files.exists(dir.resolve("cloud/pki/ca.pem"))) {
                CloudClient c = new CloudClient(URI.create("https://127.0.0.1:" + port), Optional.of(Files.readString(token).strip()),
                        Optional.of(CloudClient.trusting(dir.resolve("cloud/pki/ca.pem"))));
                try {
                    if (c.get("/api/v1").status() == 200) {
                        return c;
                    }
                } catch (RuntimeException e) {
                    // not listening yet
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("control plane not up; log:\n" + Files.readString(dir.resolve("cloud.log")));
    }

    private static JsonNode awaitStatus(CloudClient c, String id, Duration timeout, Predicate<JsonNode> condition) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode st = null;
            try {
                CloudClient.Response r = c.get("/api/v1/rollouts/" + id);
                st = r.status() == 200 ? r.json() : null;
            } catch (RuntimeException e) {
                // restarting
            }
            if (st != null && condition.test(st)) {
                return st;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out; status: " + st);
            }
            Thread.sleep(50);
        }
    }

    @Test
    void a_control_plane_killed_with_sigkill_during_wave_two_resumes_and_completes_consistently() throws Exception {
        int port = Ports.freePort();
        Process cloud = start(port);
        List<EdgeAgent> agents = new ArrayList<>();
        MqttClient spy = new MqttClient(MQTT.broker().url(), "kill-spy", new MemoryPersistence());
        Map<String, Set<String>> commands = new ConcurrentHashMap<>();
        try {
            CloudClient ops = awaitUp(cloud, port);
            Path v2 = SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("v2")));
            assertThat(ops.pushModel("cls", "2", List.of(v2), List.of(), Map.of(), n -> { }).status()).isEqualTo(201);
            JsonNode key = ops.get("/api/v1/keys").json().get("keys").get(0);
            AgentConfig.Sync sync = new AgentConfig.Sync(URI.create("https://127.0.0.1:" + port),
                    Map.of(key.get("keyId").asText(), Keys.publicKey(key.get("publicKey").asText())));
            String operator = Files.readString(dir.resolve("cloud/tokens/operator.token")).strip();
            javax.net.ssl.SSLContext trust = CloudClient.trusting(dir.resolve("cloud/pki/ca.pem"));
            io.edgefleet.agent.AgentTls agentTls = io.edgefleet.agent.AgentTls.none()
                    .withCloud(io.edgefleet.transport.http.HttpCredentials.tls(() -> trust).withBearer(() -> operator));
            for (int i = 0; i < 8; i++) {
                Path models = Files.createDirectories(dir.resolve("m" + i));
                Files.move(SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("s" + i))), models.resolve("cls.onnx"));
                agents.add(EdgeAgent.start(AgentConfig.defaults(dir.resolve("a" + i)).withModelsDir(models).withHttp("127.0.0.1", 0)
                        .withCoapPort(-1).withIdentity("k9", "dev-" + i).withProfile("raspberry-pi-4-4gb", EngineOptions.defaults())
                        .withMqtt(MQTT.broker().url()).withSync(sync).withTls(agentTls)
                        .withWatchdog(new Watchdog.Limits(Duration.ofMinutes(10), 1_000_000, 1.0, 1.0, 1000.0))));
            }
            spy.setCallback(MqttCallbacks.onMessage((t, m) -> {
                Command c = MessageCodec.json().decode(m.getPayload(), Command.class);
                commands.computeIfAbsent(Topic.parse(t).device(), k -> ConcurrentHashMap.newKeySet())
                        .add(c.type().name() + ":" + c.version().orElse("-") + ":" + c.commandId());
            }));
            spy.connect();
            spy.subscribe("ef/v1/k9/+/cmd", 1);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (ops.get("/api/v1/devices?selector=fleet=k9,status=online").json().get("count").asInt() < 8) {
                assertThat(System.nanoTime()).as("8 agents online").isLessThan(deadline);
                Thread.sleep(100);
            }
            CloudClient.Response created = ops.raw("POST", "/api/v1/rollouts", "application/json", """
                    {"model": "cls", "version": "2", "selector": "fleet=k9",
                     "waves": [{"count": 1, "bake": "1s"}, {"count": 4, "bake": "2s"}, {"percent": 100}],
                     "maxConcurrent": 1, "commandTimeout": "30s",
                     "gates": {"minDevices": 0, "maxInstallFailures": 0}}
                    """.getBytes());
            assertThat(created.status()).as(created.text()).isEqualTo(201);
            String id = created.json().get("rollout").get("id").asText();
            awaitStatus(ops, id, Duration.ofSeconds(60), st -> st.get("currentWave").asInt() == 2);
            cloud.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // SIGKILL: no shutdown hook, no goodbye
            assertThat(cloud.isAlive()).isFalse();
            cloud = start(port);
            CloudClient again = awaitUp(cloud, port);
            JsonNode done = awaitStatus(again, id, Duration.ofSeconds(120), st -> !st.get("rollout").get("state").asText().equals("running"));
            assertThat(done.get("rollout").get("state").asText()).as(done.toString()).isEqualTo("succeeded");
            assertThat(done.get("devices").findValuesAsText("state")).containsOnly("activated").hasSize(8);
            assertThat(agents).allSatisfy(a -> assertThat(a.slots().activeVersions()).containsEntry("cls", "2"));
            // One command id per device, one target version: retries and the restart reuse the same command.
            assertThat(commands).hasSize(8);
            commands.forEach((device, seen) -> assertThat(seen).as(device).hasSize(1).allMatch(s -> s.startsWith("DEPLOY:2:")));
        } finally {
            cloud.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            if (spy.isConnected()) {
                spy.disconnect();
            }
            spy.close();
            agents.forEach(EdgeAgent::close);
        }
    }

}
