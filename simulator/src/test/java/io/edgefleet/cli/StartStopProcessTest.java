package io.edgefleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.agent.AgentConfig;
import io.edgefleet.cloud.CloudConfig;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.messages.DeviceState;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.testkit.MosquittoExtension;
import io.edgefleet.testkit.MqttCallbacks;
import io.edgefleet.testkit.Ports;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Truthful start and stop, as real processes: a port that cannot be bound ends the agent or the
 * control plane with a non-zero exit and one line naming the port and its setting; SIGTERM ends
 * both within 10 s even when the broker has just been killed or frozen.
 */
class StartStopProcessTest {
    /** The bound for SIGTERM to exit, whatever the broker does. */
    private static final Duration STOP_BOUND = Duration.ofSeconds(10);

    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    @TempDir
    Path dir;

    private Path models() throws Exception {
        Path models = Files.createDirectories(dir.resolve("models"));
        Files.move(SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("synth"))), models.resolve("cls.onnx"));
        return models;
    }

    /** Exactly one line names the port and the setting; no stack trace; nothing claims to be ready. */
    private static void assertOneLineNaming(String log, int port, String flag) {
        List<String> naming = log.lines().filter(l -> l.contains(Integer.toString(port)) && l.contains(flag)).toList();
        assertThat(naming).as(log).hasSize(1);
        assertThat(naming.get(0)).contains("port " + port, "not available");
        assertThat(log.lines()).as(log).noneMatch(l -> l.startsWith("\tat ") || l.startsWith("Caused by"));
        assertThat(log).doesNotContain("ready:", ":-1");
    }

    @Test
    void an_agent_whose_http_port_is_taken_exits_non_zero_with_one_line_naming_port_and_setting() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            try (ChildJvm agent = ChildJvm.start(dir.resolve("agent.log"), "agent", "--data-dir", dir.resolve("data").toString(),
                    "--models-dir", models().toString(), "--http-port", Integer.toString(port), "--coap-port", "0")) {
                assertThat(agent.awaitExit(ChildJvm.PATIENCE)).isNotZero();
                assertOneLineNaming(agent.log(), port, "--http-port");
            }
        }
    }

    @Test
    void an_agent_whose_coap_port_is_taken_exits_non_zero_with_one_line_naming_port_and_setting() throws Exception {
        try (DatagramSocket taken = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            int port = taken.getLocalPort();
            try (ChildJvm agent = ChildJvm.start(dir.resolve("agent.log"), "agent", "--data-dir", dir.resolve("data").toString(),
                    "--models-dir", models().toString(), "--http-port", "0", "--coap-port", Integer.toString(port))) {
                assertThat(agent.awaitExit(ChildJvm.PATIENCE)).isNotZero();
                assertOneLineNaming(agent.log(), port, "--coap-port");
            }
        }
    }

    @Test
    void a_control_plane_whose_http_port_is_taken_exits_non_zero_with_one_line_naming_port_and_setting() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            try (ChildJvm cloud = ChildJvm.start(dir.resolve("cloud.log"), "cloud", "--data-dir", dir.resolve("cloud").toString(),
                    "--http-port", Integer.toString(port))) {
                assertThat(cloud.awaitExit(ChildJvm.PATIENCE)).isNotZero();
                assertOneLineNaming(cloud.log(), port, "--http-port");
            }
        }
    }

    @Test
    void the_agent_and_the_control_plane_do_not_default_to_the_same_port() {
        assertThat(AgentConfig.defaults(dir).httpPort()).isNotEqualTo(CloudConfig.defaults(dir).httpPort());
    }

    /** What happens to the broker before the SIGTERM. */
    enum BrokerFault {
        /** Killed: connections reset, reconnects refused. */
        KILLED,
        /** Frozen (SIGSTOP): connections stay open and nothing answers, as with a hung broker or a dropped network. */
        FROZEN
    }

    /** Applies the fault; returns how to undo it (a frozen broker is thawed so the extension can stop it). */
    private static Runnable inflict(BrokerFault fault) throws Exception {
        if (fault == BrokerFault.KILLED) {
            MQTT.broker().kill();
            return () -> { };
        }
        ProcessHandle broker = ProcessHandle.current().descendants()
                .filter(h -> h.info().command().map(c -> c.endsWith("mosquitto")).orElse(false)).findFirst()
                .orElseThrow(() -> new AssertionError("the frozen-broker case needs the mosquitto binary as a child process (edgefleet.mosquitto=binary); "
                        + "found " + MQTT.broker().describe()));
        assertThat(new ProcessBuilder("kill", "-STOP", Long.toString(broker.pid())).start().waitFor()).isZero();
        return () -> {
            try {
                new ProcessBuilder("kill", "-CONT", Long.toString(broker.pid())).start().waitFor();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
    }

    @ParameterizedTest
    @EnumSource(BrokerFault.class)
    void sigterm_ends_an_agent_within_10_s_whatever_its_broker_does(BrokerFault fault) throws Exception {
        int port = Ports.freePort();
        var states = new LinkedBlockingQueue<DeviceState>();
        MqttClient watcher = new MqttClient(MQTT.broker().url(), "stop-watch", new MemoryPersistence());
        watcher.setCallback(MqttCallbacks.onMessage((t, m) -> states.add(MessageCodec.json().decode(m.getPayload(), DeviceState.class))));
        watcher.connect();
        watcher.subscribe(Topic.state("local", "stop-test").value(), 1);
        Runnable undo = () -> { };
        try (ChildJvm agent = ChildJvm.start(dir.resolve("agent.log"), "agent", "--data-dir", dir.resolve("data").toString(),
                "--models-dir", models().toString(), "--http-port", Integer.toString(port), "--coap-port", "0",
                "--mqtt", MQTT.broker().url(), "--device", "stop-test")) {
            agent.awaitOk("http://127.0.0.1:" + port + "/v2/health/ready");
            DeviceState online = states.poll(30, TimeUnit.SECONDS);
            assertThat(online).as("the agent connected and published its state; log:%n%s", agent.log()).isNotNull();
            assertThat(online.online()).isTrue();
            undo = inflict(fault);
            long t0 = System.nanoTime();
            agent.process().destroy(); // SIGTERM
            boolean ended = agent.process().waitFor(STOP_BOUND.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(ended).as("agent ended within %s of SIGTERM (%d ms so far); log:%n%s", STOP_BOUND,
                    (System.nanoTime() - t0) / 1_000_000, agent.log()).isTrue();
            assertThat(agent.process().exitValue()).isIn(0, 143);
            System.out.printf("agent, broker %s: ended %d ms after SIGTERM%s%n", fault, (System.nanoTime() - t0) / 1_000_000,
                    agent.log().contains("shutdown took longer") ? " (the backstop cut the close short)" : "");
        } finally {
            undo.run();
            watcher.disconnectForcibly(0, 0, false);
            watcher.close(true);
        }
    }

    /** The environment overrides apply without --config too (they were silently ignored: the control plane took 8080). */
    @Test
    void cloud_environment_variables_apply_without_a_config_file() throws Exception {
        int port = Ports.freePort();
        try (ChildJvm cloud = ChildJvm.start(dir.resolve("cloud.log"), java.util.Map.of("CLOUD_HTTP_PORT", Integer.toString(port)),
                "cloud", "--data-dir", dir.resolve("cloud").toString(), "--mqtt", MQTT.broker().url(), "--plain-http")) {
            cloud.awaitOk("http://127.0.0.1:" + port + "/observe/health/ready");
            // Flyway's twenty routine INFO lines stay quiet (org.flywaydb starts at WARN) on this class path too, where
            // SLF4J's provider is Logback and Flyway used to log through it past those levels; EdgeFleet's own line remains
            assertThat(cloud.log()).as("log:%n%s", cloud.log()).doesNotContain("DbMigrate", "FlywayExecutor", "JdbcTableSchemaHistory")
                    .contains("schema migrated from version none to");
        }
    }

    @ParameterizedTest
    @EnumSource(BrokerFault.class)
    void sigterm_ends_a_control_plane_within_10_s_whatever_its_broker_does(BrokerFault fault) throws Exception {
        int port = Ports.freePort();
        Runnable undo = () -> { };
        try (ChildJvm cloud = ChildJvm.start(dir.resolve("cloud.log"), "cloud", "--data-dir", dir.resolve("cloud").toString(),
                "--http-port", Integer.toString(port), "--mqtt", MQTT.broker().url(), "--plain-http")) {
            // readiness includes the MQTT sessions: 200 once the control and ingest sessions are connected
            cloud.awaitOk("http://127.0.0.1:" + port + "/observe/health/ready");
            // first start made the trust material: the CA, the services' identities (keys 0600), a secured broker's config
            assertThat(dir.resolve("cloud/pki/ca.pem")).exists();
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(java.nio.file.Files.getPosixFilePermissions(
                    dir.resolve("cloud/pki/services/cloud-control-key.pem")))).isEqualTo("rw-------");
            assertThat(dir.resolve("cloud/broker/mosquitto.conf")).content().contains("require_certificate true");
            undo = inflict(fault);
            long t0 = System.nanoTime();
            cloud.process().destroy(); // SIGTERM
            boolean ended = cloud.process().waitFor(STOP_BOUND.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(ended).as("control plane ended within %s of SIGTERM (%d ms so far); log:%n%s", STOP_BOUND,
                    (System.nanoTime() - t0) / 1_000_000, cloud.log()).isTrue();
            assertThat(cloud.process().exitValue()).isIn(0, 143);
            System.out.printf("control plane, broker %s: ended %d ms after SIGTERM%s%n", fault, (System.nanoTime() - t0) / 1_000_000,
                    cloud.log().contains("shutdown took longer") ? " (the backstop cut the close short)" : "");
        } finally {
            undo.run();
        }
    }
}
