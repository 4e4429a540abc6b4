package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.VIEWER;
import static io.edgefleet.cloud.CloudTestSupport.await;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.agent.AgentConfig;
import io.edgefleet.agent.EdgeAgent;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.messages.Command;
import io.edgefleet.protocols.messages.CommandAck;
import io.edgefleet.protocols.messages.DeviceState;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.messages.ModelState;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.sync.signing.Keys;
import io.edgefleet.testkit.MosquittoExtension;
import io.edgefleet.testkit.MqttCallbacks;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The fleet registry on a real Mosquitto: devices from retained state, truthful stale/offline, selectors, and a real agent deploying from the registry. */
@org.junit.jupiter.api.extension.ExtendWith(DatabaseParameter.class)
class FleetRegistryTest {
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    @TempDir
    static Path dir;
    static ControlPlane cp;
    static CloudClient ops;
    static MqttClient pub;

    /** SQLite, or PostgreSQL in the {@link OnPostgres} subclass. */
    @BeforeAll
    static void start(io.edgefleet.cloud.store.DatabaseSettings database) throws Exception {
        cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withMqtt(MQTT.broker().url()).withStaleAfter(Duration.ofSeconds(2))
                .withDatabase(database));
        ops = client(cp, OPERATOR);
        pub = new MqttClient(MQTT.broker().url(), "fleet-test-pub", new MemoryPersistence());
        pub.connect();
    }

    @AfterAll
    static void stop() throws Exception {
        pub.disconnect();
        pub.close();
        cp.close();
    }

    private static void state(DeviceState s) throws Exception {
        MqttMessage m = new MqttMessage(MessageCodec.json().encode(s));
        m.setQos(1);
        m.setRetained(true);
        pub.publish(Topic.state(s.fleet(), s.device()).value(), m);
    }

    private static JsonNode device(String fleet, String id) {
        CloudClient.Response r = ops.get("/api/v1/fleets/" + fleet + "/devices/" + id);
        return r.status() == 200 ? r.json() : null;
    }

    private static String status(String fleet, String id) {
        JsonNode d = device(fleet, id);
        return d == null ? "absent" : d.get("status").asText();
    }

    @Test
    void a_device_appears_on_its_retained_state_and_turns_stale_when_it_goes_silent_never_online() throws Exception {
        state(new DeviceState("yard", "quiet-1", true, "0.1.0", "raspberry-pi-4-4gb", Instant.now(),
                List.of(ModelState.active("kws", "3"))).withRuntimes(List.of(
                        new io.edgefleet.protocols.messages.RuntimeReport("onnxruntime", true, java.util.Optional.of("1.23.2"), "native library loaded"),
                        new io.edgefleet.protocols.messages.RuntimeReport("tflite", false, java.util.Optional.empty(),
                                "no TensorFlow Lite JNI library is bundled for linux/aarch64"))));
        await(Duration.ofSeconds(10), "quiet-1 online", () -> status("yard", "quiet-1").equals("online"));
        JsonNode d = device("yard", "quiet-1");
        assertThat(d.get("profile").asText()).isEqualTo("raspberry-pi-4-4gb");
        // the control plane knows which runtimes load on the device, and why one does not
        assertThat(d.get("runtimes").get(1).get("loadable").asBoolean()).isFalse();
        assertThat(d.get("runtimes").get(1).get("detail").asText()).contains("linux/aarch64");
        assertThat(d.get("models").get(0).get("active").asText()).isEqualTo("3");
        await(Duration.ofSeconds(10), "quiet-1 stale", () -> status("yard", "quiet-1").equals("stale"));
        JsonNode stale = device("yard", "quiet-1");
        Instant lastSeen = Instant.parse(stale.get("lastSeen").asText());
        assertThat(Instant.parse(stale.get("statusSince").asText())).isEqualTo(lastSeen.plus(Duration.ofSeconds(2)));
        await(Duration.ofSeconds(10), "device.stale event", () -> ops.get("/api/v1/events?subject=yard/quiet-1").json()
                .findValuesAsText("kind").contains("device.stale"));
        // It speaks again: online.
        state(new DeviceState("yard", "quiet-1", true, "0.1.0", "raspberry-pi-4-4gb", Instant.now(), List.of(ModelState.active("kws", "3"))));
        await(Duration.ofSeconds(10), "quiet-1 online again", () -> status("yard", "quiet-1").equals("online"));
    }

    @Test
    void a_device_whose_last_will_fires_turns_offline_and_keeps_its_models() throws Exception {
        DeviceState online = new DeviceState("yard", "will-1", true, "0.1.0", "raspberry-pi-4-4gb", Instant.now(),
                List.of(ModelState.active("kws", "3")));
        DeviceState will = new DeviceState("yard", "will-1", false, "0.1.0", "raspberry-pi-4-4gb", Instant.now(), List.of());
        // A separate process holds the session with a will, then dies without a DISCONNECT: the broker fires the will.
        Process p = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", Integer.toString(MQTT.broker().port()), "-V", "mqttv5",
                "-i", "will-1-proc", "-q", "1", "-t", "ef/v1/yard/will-1/telemetry-not-used", "-l",
                "--will-topic", Topic.state("yard", "will-1").value(), "--will-qos", "1", "--will-retain",
                "--will-payload", new String(MessageCodec.json().encode(will), StandardCharsets.UTF_8)).redirectErrorStream(true).start();
        try {
            state(online);
            await(Duration.ofSeconds(10), "will-1 online", () -> status("yard", "will-1").equals("online"));
            Thread.sleep(300); // the process has connected by now (it reads stdin); make sure before killing it
        } finally {
            p.destroyForcibly().waitFor();
        }
        await(Duration.ofSeconds(10), "will-1 offline", () -> status("yard", "will-1").equals("offline"));
        JsonNode d = device("yard", "will-1");
        assertThat(d.get("models").get(0).get("active").asText()).as("a will predates later activations; it flips only the status")
                .isEqualTo("3");
        assertThat(ops.get("/api/v1/events?subject=yard/will-1").json().findValuesAsText("kind")).contains("device.offline");
    }

    @Test
    void selectors_filter_by_fleet_tags_profile_model_version_and_status() throws Exception {
        state(new DeviceState("north", "sel-1", true, "0.1.0", "raspberry-pi-4-4gb", Instant.now(), List.of(ModelState.active("kws", "1"))));
        state(new DeviceState("north", "sel-2", true, "0.1.0", "jetson-orin-nano-8gb", Instant.now(), List.of(ModelState.active("kws", "2"))));
        state(new DeviceState("south", "sel-3", true, "0.1.0", "raspberry-pi-4-4gb", Instant.now(), List.of(ModelState.active("kws", "2"))));
        await(Duration.ofSeconds(10), "three devices", () -> device("south", "sel-3") != null && device("north", "sel-2") != null
                && device("north", "sel-1") != null);
        assertThat(ops.put("/api/v1/fleets/north/devices/sel-1", Map.of("tags", List.of("line-3", "canary"))).status()).isEqualTo(200);
        assertThat(ops.put("/api/v1/fleets/north/devices/sel-2", Map.of("tags", List.of("line-3"))).status()).isEqualTo(200);
        CloudClient viewer = client(cp, VIEWER);
        assertThat(ids(viewer, "fleet=north")).containsExactly("sel-1", "sel-2");
        assertThat(ids(viewer, "tag=line-3")).containsExactly("sel-1", "sel-2");
        assertThat(ids(viewer, "tag=line-3,tag=canary")).containsExactly("sel-1");
        assertThat(ids(viewer, "profile=raspberry-pi-4-4gb,fleet=south")).containsExactly("sel-3");
        assertThat(ids(viewer, "model=kws@2,device=sel-2")).containsExactly("sel-2");
        assertThat(ids(viewer, "model=kws@2")).contains("sel-2", "sel-3").doesNotContain("sel-1");
        // A pre-registered device that never reported reads "registered", not online.
        ops.put("/api/v1/fleets/north/devices/sel-9", Map.of("tags", List.of("spare"), "profile", "raspberry-pi-5-8gb"));
        assertThat(status("north", "sel-9")).isEqualTo("registered");
        assertThat(ids(viewer, "status=registered")).contains("sel-9");
        assertThat(ops.put("/api/v1/fleets/north/devices/sel-9", Map.of("profile", "toaster")).status()).isEqualTo(422);
    }

    private static List<String> ids(CloudClient c, String selector) {
        CloudClient.Response r = c.get("/api/v1/devices?selector=" + CloudClient.enc(selector));
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return r.json().get("devices").findValuesAsText("device");
    }

    @Test
    void a_real_agent_reports_itself_and_activates_a_version_from_the_registry_with_its_signed_manifest() throws Exception {
        Path v2 = SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("v2")));
        assertThat(ops.pushModel("cls", "2", List.of(v2), List.of("raspberry-pi-4-4gb"), Map.of(), n -> { }).status()).isEqualTo(201);
        JsonNode key = ops.get("/api/v1/keys").json().get("keys").get(0);
        Path models = Files.createDirectories(dir.resolve("agent-models"));
        Files.move(SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("v1"))), models.resolve("cls.onnx"));
        try (EdgeAgent agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("agent")).withModelsDir(models).withHttp("127.0.0.1", 0)
                .withCoapPort(-1).withIdentity("plant-7", "agent-1").withProfile("raspberry-pi-4-4gb", EngineOptions.defaults())
                .withMqtt(MQTT.broker().url()).withTls(CloudTestSupport.agentToken())
                .withSync(new AgentConfig.Sync(URI.create("http://127.0.0.1:" + cp.port()),
                        Map.of(key.get("keyId").asText(), Keys.publicKey(key.get("publicKey").asText())))))) {
            MqttClient cmd = new MqttClient(MQTT.broker().url(), "fleet-test-cmd", new MemoryPersistence());
            await(Duration.ofSeconds(15), "agent online in the registry", () -> status("plant-7", "agent-1").equals("online"));
            assertThat(device("plant-7", "agent-1").get("agentVersion").asText()).isEqualTo(EdgeAgent.VERSION);
            assertThat(device("plant-7", "agent-1").get("runtimes").findValuesAsText("runtime")).containsExactly("onnxruntime", "tflite");
            List<CommandAck> acks = new CopyOnWriteArrayList<>();
            cmd.setCallback(MqttCallbacks.onMessage((t, m) -> acks.add(MessageCodec.json().decode(m.getPayload(), CommandAck.class))));
            MqttConnectionOptions o = new MqttConnectionOptions();
            cmd.connect(o);
            cmd.subscribe(Topic.commandAck("plant-7", "agent-1").value(), 1);
            MqttMessage m = new MqttMessage(MessageCodec.json().encode(Command.deploy("cmd-fleet-1", null, "cls", "2", true, Instant.now())));
            m.setQos(1);
            cmd.publish(Topic.command("plant-7", "agent-1").value(), m);
            await(Duration.ofSeconds(30), "activated ack", () -> acks.stream().anyMatch(a -> a.phase().wire().equals("activated")
                    || a.phase().wire().equals("failed")));
            assertThat(acks.get(acks.size() - 1).phase().wire()).as(acks.toString()).isEqualTo("activated");
            await(Duration.ofSeconds(10), "registry shows cls 2 active", () -> {
                JsonNode d = device("plant-7", "agent-1");
                return d != null && d.get("models").toString().contains("\"active\":\"2\"");
            });
            assertThat(ids(ops, "model=cls@2")).contains("agent-1");
            cmd.disconnect();
            cmd.close();
        }
        await(Duration.ofSeconds(10), "agent offline after a clean stop", () -> status("plant-7", "agent-1").equals("offline"));
    }
}
