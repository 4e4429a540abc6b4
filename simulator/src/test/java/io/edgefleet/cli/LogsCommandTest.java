package io.edgefleet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.cli.ProfilesCommandTest.Run;
import io.edgefleet.cloud.CloudConfig;
import io.edgefleet.cloud.ControlPlane;
import io.edgefleet.protocols.messages.LogBatch;
import io.edgefleet.transport.logging.LogFormat;
import io.edgefleet.transport.logging.LogSetup;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code edgefleet logs} against a real control plane's central logs (records stored as the MQTT
 * path stores them; the agent-to-API path is {@code CentralLogsTest}), and the logging flags every
 * command carries: {@code --log-format json} and {@code --log-level PKG=LEVEL}, before or after the
 * sub-command, and the YAML {@code logging} node.
 */
class LogsCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
    @TempDir
    static Path dir;
    static ControlPlane cp;
    static String server;
    static Path viewer;

    @BeforeAll
    static void start() {
        cp = ControlPlane.start(CloudConfig.defaults(dir.resolve("cloud")).withHttp("127.0.0.1", 0)
                .withHttpTls(io.edgefleet.cloud.tls.HttpTls.plain()));
        server = "http://127.0.0.1:" + cp.port();
        viewer = dir.resolve("cloud/tokens/viewer.token");
        cp.logs().store(new LogBatch(LogBatch.SCHEMA_VERSION, "plant-1", "cam-7", 0, Instant.now(), List.of(
                new LogBatch.Entry(Instant.parse("2026-11-30T06:00:00Z"), "WARN", "io.edgefleet.agent.commands.CommandHandler", "mqtt-commands",
                        "command c-1: deploy kws 2.0.0 failed: verification-failed: chunk 3 does not match", Optional.empty(),
                        Optional.of(TRACE), Optional.of("00f067aa0ba902b7")),
                new LogBatch.Entry(Instant.parse("2026-11-30T06:00:01Z"), "ERROR", "io.edgefleet.agent.slots.Watchdog", "agent-telemetry",
                        "kws 2.0.0 rolled back", Optional.of("java.lang.IllegalStateException: nan\n\tat x.y(Z.java:1)"),
                        Optional.empty(), Optional.empty())), 4, 0));
    }

    @AfterAll
    static void stop() {
        cp.close();
    }

    @AfterEach
    void backToText() {
        LogSetup.configure(new LogSetup.Settings(LogFormat.TEXT, Map.of("io.edgefleet.clitest", Level.INFO)));
    }

    private static Run cli(String... args) {
        String[] all = new String[args.length + 4];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--server";
        all[args.length + 1] = server;
        all[args.length + 2] = "--token-file";
        all[args.length + 3] = viewer.toString();
        return ProfilesCommandTest.run(all);
    }

    @Test
    void logs_of_a_device_newest_first_with_trace_ids_and_what_was_not_forwarded() {
        Run r = cli("logs", "--device", "cam-7");
        assertThat(r.code()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines.get(0)).startsWith("TIME").contains("LEVEL").contains("DEVICE").contains("TRACE").contains("MESSAGE");
        assertThat(lines.get(1)).startsWith("2026-11-30T06:00:01Z").contains("ERROR").contains("plant-1/cam-7").contains("Watchdog")
                .contains("kws 2.0.0 rolled back [java.lang.IllegalStateException: nan]");
        assertThat(lines.get(2)).contains("WARN").contains("CommandHandler").contains(TRACE).contains("verification-failed");
        assertThat(r.out()).contains("not forwarded by the agent: 4 records over its rate limit, 0 batches dropped for space");
        assertThat(r.out()).doesNotContain("null");
    }

    @Test
    void by_trace_id_as_json_and_a_bad_trace_id_is_a_clear_error() throws Exception {
        Run r = cli("logs", "--trace-id", TRACE, "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode records = JSON.readTree(r.out()).get("records");
        assertThat(records).hasSize(1);
        assertThat(records.get(0).get("device").asText()).isEqualTo("cam-7");
        assertThat(records.get(0).get("trace_id").asText()).isEqualTo(TRACE);
        Run errors = cli("logs", "--level", "ERROR");
        assertThat(errors.out()).contains("rolled back").doesNotContain("verification-failed");
        Run bad = cli("logs", "--trace-id", "not-a-trace");
        assertThat(bad.code()).isEqualTo(Main.FAILED);
        assertThat(bad.err()).contains("error 400").contains("trace_id must be 32 lower-case hex digits");
        assertThat(cli("logs", "--device", "nobody").out()).contains("no log records from device nobody");
    }

    @Test
    void log_flags_on_any_command_switch_to_json_lines_and_open_a_package_level() throws Exception {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            // after the sub-command too: the flags are inherited by every command
            Run r = cli("logs", "--log-format", "json", "--log-level", "io.edgefleet.clitest=DEBUG", "--device", "cam-7");
            assertThat(r.code()).as(r.err()).isZero();
            Logger.getLogger("io.edgefleet.clitest.Step").fine("a debug line");
            Logger.getLogger("io.edgefleet.clitest2.Step").fine("not this one");
        } finally {
            System.setErr(original);
        }
        assertThat(LogSetup.current().format()).isEqualTo(LogFormat.JSON);
        List<String> lines = captured.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains("clitest")).toList();
        assertThat(lines).hasSize(1);
        JsonNode line = JSON.readTree(lines.get(0));
        assertThat(line.get("level").asText()).isEqualTo("DEBUG");
        assertThat(line.get("logger").asText()).isEqualTo("io.edgefleet.clitest.Step");
        assertThat(line.get("message").asText()).isEqualTo("a debug line");

        Run before = ProfilesCommandTest.run("--log-format", "text", "profiles", "list");
        assertThat(before.code()).as(before.err()).isZero();
        assertThat(LogSetup.current().format()).isEqualTo(LogFormat.TEXT);
        Run bad = ProfilesCommandTest.run("--log-format", "xml", "profiles", "list");
        assertThat(bad.code()).isEqualTo(Main.USAGE);
        assertThat(bad.err()).contains("log format 'xml' is neither text nor json");
        Run badLevel = ProfilesCommandTest.run("profiles", "list", "--log-level", "io.x=LOUD");
        assertThat(badLevel.code()).isEqualTo(Main.USAGE);
        assertThat(badLevel.err()).contains("log level 'LOUD'");
    }

    @Test
    void the_yaml_logging_node_sets_format_and_levels_and_names_a_bad_value() throws Exception {
        Path yaml = Files.writeString(dir.resolve("agent.yaml"), """
                agent:
                  http: { port: 0 }
                logging:
                  format: json
                  levels:
                    io.edgefleet.agent: DEBUG
                    io.helidon: WARN
                    root: ERROR
                """);
        LogSetup.Settings s = LogConfigFile.read(yaml);
        assertThat(s.format()).isEqualTo(LogFormat.JSON);
        assertThat(s.levels()).containsEntry("io.edgefleet.agent", Level.FINE).containsEntry("io.helidon", Level.WARNING)
                .containsEntry("", Level.SEVERE);
        Path bad = Files.writeString(dir.resolve("bad.yaml"), "logging:\n  levels:\n    io.edgefleet.agent: LOUD\n");
        assertThatThrownBy(() -> LogConfigFile.read(bad)).hasMessageContaining("bad.yaml")
                .hasMessageContaining("logging.levels.io.edgefleet.agent").hasMessageContaining("'LOUD'");
        // a node of the wrong shape, a misspelt key or a misplaced node is an error, never silently the defaults
        for (String[] c : new String[][] {
                {"logging: json\n", "logging: a mapping"},
                {"logging:\n  levels: WARN\n", "logging.levels: a mapping"},
                {"logging:\n  levls: {io.edgefleet: DEBUG}\n", "logging.levls: unknown key"},
                {"agent:\n  logging:\n    format: json\n", "agent.logging: logging is a top-level node"}}) {
            Path wrong = Files.writeString(dir.resolve("wrong.yaml"), c[0]);
            assertThatThrownBy(() -> LogConfigFile.read(wrong)).as(c[0]).hasMessageContaining("wrong.yaml").hasMessageContaining(c[1]);
        }
    }
}
