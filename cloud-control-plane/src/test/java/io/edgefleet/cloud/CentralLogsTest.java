package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.VIEWER;
import static io.edgefleet.cloud.CloudTestSupport.await;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.agent.AgentConfig;
import io.edgefleet.agent.EdgeAgent;
import io.edgefleet.agent.logs.CentralLogs;
import io.edgefleet.agent.store.AgentStore;
import io.edgefleet.testkit.MosquittoExtension;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Scope;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Central logs end to end: a real agent forwards its WARN and ERROR records through its outbox and a
 * real Mosquitto to a real control plane, which stores them and serves them per device and by trace
 * id to a viewer; across a broker outage nothing accepted is lost; the rate limit's drops reach the
 * API. One control plane for the class; each test's agent forwards its own logger only (the agents
 * and the control plane share this JVM's loggers).
 */
class CentralLogsTest {
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    @TempDir
    static Path dir;
    private static ControlPlane cp;

    @BeforeAll
    static void start() {
        cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withMqtt(MQTT.broker().url()));
    }

    @AfterAll
    static void stop() {
        if (cp != null) {
            cp.close();
        }
    }

    private static EdgeAgent agent(String device, String logger, int maxRecords) {
        return agent(device, logger, maxRecords, MQTT.broker().url());
    }

    private static EdgeAgent agent(String device, String logger, int maxRecords, String broker) {
        AgentConfig c = AgentConfig.defaults(dir.resolve(device)).withHttp("127.0.0.1", 0).withCoapPort(-1).withIdentity("logs", device)
                .withMqtt(broker);
        c = c.withTelemetry(c.telemetry().withLogs(new CentralLogs(true, Level.WARNING, maxRecords, Duration.ofHours(1), 1000, 1000, List.of(logger))));
        EdgeAgent a = EdgeAgent.start(c);
        await(Duration.ofSeconds(30), "agent connected", () -> a.mqtt().orElseThrow().isConnected());
        return a;
    }

    private static JsonNode records(String path) {
        return client(cp, VIEWER).get(path).json().get("records");
    }

    @Test
    void a_warn_on_an_agent_shows_up_in_its_device_logs_and_by_trace_id() {
        Logger log = Logger.getLogger("io.edgefleet.centrallogs.one.Deployer");
        try (EdgeAgent a = agent("d1", "io.edgefleet.centrallogs.one", 60)) {
            log.info("not forwarded: below WARN");
            SpanContext ctx = SpanContext.create("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", TraceFlags.getSampled(),
                    TraceState.getDefault());
            try (Scope s = Span.wrap(ctx).makeCurrent()) {
                log.log(Level.WARNING, "download of kws 2.0.0 failed: {0}", "connection reset");
            }
            await(Duration.ofSeconds(60), "the WARN in GET /api/v1/devices/d1/logs", () -> records("/api/v1/devices/d1/logs").size() == 1);
            JsonNode r = records("/api/v1/devices/d1/logs").get(0);
            assertThat(r.get("device").asText()).isEqualTo("d1");
            assertThat(r.get("fleet").asText()).isEqualTo("logs");
            assertThat(r.get("level").asText()).isEqualTo("WARN");
            assertThat(r.get("logger").asText()).isEqualTo("io.edgefleet.centrallogs.one.Deployer");
            assertThat(r.get("message").asText()).isEqualTo("download of kws 2.0.0 failed: connection reset");
            assertThat(r.get("trace_id").asText()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
            assertThat(r.get("span_id").asText()).isEqualTo("00f067aa0ba902b7");
            assertThat(java.time.Instant.parse(r.get("time").asText())).isNotNull();

            assertThat(records("/api/v1/logs?trace_id=4bf92f3577b34da6a3ce929d0e0e4736")).hasSize(1);
            assertThat(records("/api/v1/logs?trace_id=4bf92f3577b34da6a3ce929d0e0e4737")).isEmpty();
            assertThat(records("/api/v1/logs?device=d1&level=ERROR")).isEmpty();
            assertThat(records("/api/v1/fleets/logs/devices/d1/logs?since=-1h")).hasSize(1);
            var bad = client(cp, VIEWER).get("/api/v1/logs?trace_id=xyz");
            assertThat(bad.status()).isEqualTo(400);
            assertThat(bad.json().get("detail").asText()).contains("trace_id");
            assertThat(client(cp, VIEWER).get("/api/v1/logs?level=LOUD").status()).isEqualTo(400);
            assertThat(client(cp, VIEWER).get("/api/v1/logs?limit=0").status()).isEqualTo(400);
            assertThat(client(cp, null).get("/api/v1/logs").status()).isEqualTo(401);
        }
    }

    @Test
    void records_logged_while_the_broker_is_away_arrive_after_it_returns() throws Exception {
        Logger log = Logger.getLogger("io.edgefleet.centrallogs.two.Watchdog");
        int brokerPort = Integer.parseInt(MQTT.broker().url().replaceAll(".*:", ""));
        try (TcpCut path = new TcpCut(brokerPort); EdgeAgent a = agent("d2", "io.edgefleet.centrallogs.two", 60, "tcp://127.0.0.1:" + path.port())) {
            path.cut(); // the device's path to the broker goes away; the control plane's sessions stay up
            try {
                await(Duration.ofSeconds(30), "agent disconnected", () -> !a.mqtt().orElseThrow().isConnected());
                for (int i = 0; i < 3; i++) {
                    log.severe("rolled back kws 2.0.0 on its own (" + i + ")");
                }
                await(Duration.ofSeconds(30), "the records in the outbox", () -> a.store().outboxSize(AgentStore.LOGS) >= 1);
                assertThat(records("/api/v1/devices/d2/logs")).isEmpty();
            } finally {
                path.mend();
            }
            await(Duration.ofSeconds(90), "3 records after the outage", () -> records("/api/v1/devices/d2/logs").size() == 3);
            assertThat(records("/api/v1/devices/d2/logs")).extracting(n -> n.get("level").asText()).containsOnly("ERROR");
            await(Duration.ofSeconds(30), "outbox drained", () -> a.store().outboxSize(AgentStore.LOGS) == 0);
        }
    }

    @Test
    void the_rate_limit_drops_and_the_api_counts_what_was_not_forwarded() {
        Logger log = Logger.getLogger("io.edgefleet.centrallogs.three.MqttLink");
        try (EdgeAgent a = agent("d3", "io.edgefleet.centrallogs.three", 5)) {
            for (int i = 0; i < 25; i++) {
                log.warning("publish refused " + i);
            }
            assertThat(a.centralLogs().orElseThrow().dropped()).isEqualTo(20);
            await(Duration.ofSeconds(60), "5 records and 20 dropped", () -> {
                JsonNode body = client(cp, VIEWER).get("/api/v1/devices/d3/logs").json();
                return body.get("records").size() == 5 && body.get("not_forwarded").get("dropped_records").asLong() == 20;
            });
        }
    }
}
