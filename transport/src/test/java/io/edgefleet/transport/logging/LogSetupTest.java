package io.edgefleet.transport.logging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Scope;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The one log format, JSON lines with OpenTelemetry ids, and levels per package, through the JVM's real LogManager. */
class LogSetupTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream original;
    private LogSetup.Settings before;

    @BeforeEach
    void captureStandardError() {
        original = System.err;
        before = LogSetup.current();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        System.setErr(original);
        LogSetup.configure(new LogSetup.Settings(before.format(), Map.of("io.edgefleet.logtest", Level.INFO)));
    }

    private List<String> lines() {
        return err.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void text_is_one_line_per_record_with_utc_time_level_and_simple_logger_name() {
        LogSetup.configure(new LogSetup.Settings(LogFormat.TEXT, Map.of()));
        Logger.getLogger("io.edgefleet.logtest.RolloutEngine").log(Level.WARNING, "wave {0} held", 2);
        assertThat(lines()).singleElement().asString()
                .matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z WARN  RolloutEngine: wave 2 held");
    }

    @Test
    void json_lines_parse_and_carry_the_current_spans_trace_and_span_ids() throws Exception {
        LogSetup.configure(new LogSetup.Settings(LogFormat.JSON, Map.of()));
        Logger log = Logger.getLogger("io.edgefleet.logtest.Json");
        log.info("outside any span");
        SpanContext ctx = SpanContext.create("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", TraceFlags.getSampled(),
                TraceState.getDefault());
        try (Scope s = Span.wrap(ctx).makeCurrent()) {
            log.log(Level.SEVERE, "inside \"quoted\"\nspan", new IllegalStateException("boom"));
        }
        List<String> lines = lines();
        assertThat(lines).hasSize(2);
        JsonNode plain = JSON.readTree(lines.get(0));
        assertThat(plain.path("level").asText()).isEqualTo("INFO");
        assertThat(plain.path("logger").asText()).isEqualTo("io.edgefleet.logtest.Json");
        assertThat(plain.path("thread").asText()).isEqualTo(Thread.currentThread().getName());
        assertThat(plain.path("message").asText()).isEqualTo("outside any span");
        assertThat(plain.has("trace_id")).isFalse();
        assertThat(java.time.Instant.parse(plain.path("time").asText())).isNotNull();
        JsonNode traced = JSON.readTree(lines.get(1));
        assertThat(traced.path("level").asText()).isEqualTo("ERROR");
        assertThat(traced.path("message").asText()).isEqualTo("inside \"quoted\"\nspan");
        assertThat(traced.path("trace_id").asText()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
        assertThat(traced.path("span_id").asText()).isEqualTo("00f067aa0ba902b7");
        assertThat(traced.path("exception").asText()).startsWith("java.lang.IllegalStateException: boom").contains("\tat ");
    }

    @Test
    void a_package_level_opens_debug_for_that_package_only() {
        LogSetup.configure(new LogSetup.Settings(LogFormat.TEXT, LogLevels.parseAll(List.of("io.edgefleet.logtest.a=DEBUG"))));
        Logger.getLogger("io.edgefleet.logtest.a.Deployer").fine("debug of a");
        Logger.getLogger("io.edgefleet.logtest.b.Other").fine("debug of b");
        Logger.getLogger("io.edgefleet.logtest.b.Other").info("info of b");
        assertThat(lines()).hasSize(2);
        assertThat(lines().get(0)).endsWith("DEBUG Deployer: debug of a");
        assertThat(lines().get(1)).endsWith("INFO  Other: info of b");
        assertThat(LogSetup.configuredLoggers()).contains("io.edgefleet.logtest.a");
    }

    @Test
    void flyway_and_hikari_start_at_warn_and_a_named_level_brings_their_info_back() {
        LogSetup.configure(new LogSetup.Settings(LogFormat.TEXT, Map.of()));
        Logger flyway = Logger.getLogger("org.flywaydb.core.internal.command.DbMigrate");
        flyway.info("Migrating schema \"main\" to version \"1\"");
        Logger.getLogger("com.zaxxer.hikari.HikariDataSource").info("HikariPool-1 - Starting...");
        flyway.warning("a real problem");
        assertThat(lines()).singleElement().asString().endsWith("WARN  DbMigrate: a real problem");
        LogSetup.configure(new LogSetup.Settings(LogFormat.TEXT, LogLevels.parseAll(List.of("org.flywaydb=INFO"))));
        flyway.info("now shown");
        assertThat(lines()).hasSize(2).last().asString().endsWith("INFO  DbMigrate: now shown");
        LogSetup.configure(new LogSetup.Settings(LogFormat.TEXT, Map.of()));
        flyway.info("quiet again");
        assertThat(lines()).hasSize(2);
    }

    @Test
    void settings_from_a_file_are_overridden_by_flags() {
        LogSetup.Settings file = new LogSetup.Settings(LogFormat.JSON, Map.of("io.a", Level.FINE, "io.b", Level.WARNING));
        LogSetup.Settings s = file.overriddenBy(Optional.of(LogFormat.TEXT), Map.of("io.b", Level.SEVERE));
        assertThat(s.format()).isEqualTo(LogFormat.TEXT);
        assertThat(s.levels()).containsEntry("io.a", Level.FINE).containsEntry("io.b", Level.SEVERE);
    }

    @Test
    void bad_levels_and_formats_are_refused_with_the_value_named() {
        assertThatThrownBy(() -> LogLevels.parseAll(List.of("io.x=LOUD"))).hasMessageContaining("'LOUD'");
        assertThatThrownBy(() -> LogLevels.parseAll(List.of("=INFO"))).hasMessageContaining("PACKAGE=LEVEL");
        assertThatThrownBy(() -> LogFormat.parse("xml")).hasMessageContaining("'xml' is neither text nor json");
        assertThat(LogLevels.parseAll(List.of("warn"))).containsEntry("", Level.WARNING);
        assertThat(LogLevels.name(Level.FINEST)).isEqualTo("TRACE");
    }
}
