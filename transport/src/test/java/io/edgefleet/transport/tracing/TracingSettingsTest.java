package io.edgefleet.transport.tracing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class TracingSettingsTest {
    static Function<String, Optional<String>> file(Map<String, String> m) {
        return k -> Optional.ofNullable(m.get(k));
    }

    @Test
    void off_by_default_and_off_means_no_sdk() {
        TracingSettings s = TracingSettings.read(file(Map.of()), Map.of(), "edgefleet-agent");
        assertThat(s.enabled()).isFalse();
        assertThat(s.otlpTracesEndpoint()).hasToString("http://localhost:4318/v1/traces");
        assertThat(s.samplerRatio()).isEqualTo(1.0);
        assertThat(s.serviceName()).isEqualTo("edgefleet-agent");
        Tracing t = Tracing.create(s, "1", "d");
        assertThat(t).isSameAs(Tracing.off());
        assertThat(t.on()).isFalse();
        assertThat(t.openTelemetry()).isSameAs(io.opentelemetry.api.OpenTelemetry.noop());
    }

    @Test
    void the_file_enables_and_a_base_endpoint_gets_the_traces_path() {
        TracingSettings s = TracingSettings.read(file(Map.of("enabled", "true", "otlp-endpoint", "http://collector:4318/", "sampler-ratio", "0.25",
                "service-name", "plant-7-agents")), Map.of(), "edgefleet-agent");
        assertThat(s).isEqualTo(new TracingSettings(true, java.net.URI.create("http://collector:4318/v1/traces"), 0.25, "plant-7-agents"));
        assertThat(TracingSettings.read(file(Map.of("otlp-endpoint", "https://c:443/v1/traces")), Map.of(), "x").otlpTracesEndpoint())
                .hasToString("https://c:443/v1/traces");
    }

    @Test
    void otel_variables_win_over_the_file() {
        TracingSettings s = TracingSettings.read(file(Map.of("enabled", "false", "otlp-endpoint", "http://a:4318", "sampler-ratio", "1")),
                Map.of("OTEL_TRACES_EXPORTER", "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT", "http://b:4318", "OTEL_TRACES_SAMPLER_ARG", "0.1",
                        "OTEL_SERVICE_NAME", "edge-x"), "edgefleet-agent");
        assertThat(s).isEqualTo(new TracingSettings(true, java.net.URI.create("http://b:4318/v1/traces"), 0.1, "edge-x"));
        assertThat(TracingSettings.read(file(Map.of()), Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://b:4318",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:9999/traces"), "x").otlpTracesEndpoint()).hasToString("http://c:9999/traces");
        assertThat(TracingSettings.read(file(Map.of("enabled", "true")), Map.of("OTEL_SDK_DISABLED", "true"), "x").enabled()).isFalse();
        assertThat(TracingSettings.read(file(Map.of("enabled", "true")), Map.of("OTEL_TRACES_EXPORTER", "none"), "x").enabled()).isFalse();
    }

    @Test
    void bad_values_are_refused_naming_the_key_and_the_rule() {
        assertThatThrownBy(() -> TracingSettings.read(file(Map.of("enabled", "yes")), Map.of(), "x"))
                .hasMessage("tracing.enabled must be true or false, got 'yes'");
        assertThatThrownBy(() -> TracingSettings.read(file(Map.of("sampler-ratio", "2")), Map.of(), "x"))
                .hasMessage("tracing.sampler-ratio must be a number between 0 and 1, got '2'");
        assertThatThrownBy(() -> TracingSettings.read(file(Map.of()), Map.of("OTEL_TRACES_SAMPLER_ARG", "half"), "x"))
                .hasMessage("OTEL_TRACES_SAMPLER_ARG must be a number between 0 and 1, got 'half'");
        assertThatThrownBy(() -> TracingSettings.read(file(Map.of("otlp-endpoint", "collector:4318")), Map.of(), "x"))
                .hasMessageContaining("tracing.otlp-endpoint must be an http:// or https:// URL");
    }
}
