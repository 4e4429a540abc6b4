package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.agent.serving.EscalationPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's YAML: joint-inference settings and their errors. */
class AgentSettingsTest {
    @TempDir
    Path dir;

    @Test
    void shadow_settings_come_from_the_yaml_with_defaults_and_bad_values_are_refused_naming_the_setting() throws Exception {
        Path yaml = Files.writeString(dir.resolve("shadow.yaml"), """
                agent:
                  data-dir: %s
                  shadow: { share: 0.25, cpu-share: 0.5 }
                """.formatted(dir.resolve("data")));
        io.edgefleet.agent.shadow.ShadowRunner.Settings s = AgentSettings.load(yaml).shadow();
        assertThat(s.share()).isEqualTo(0.25);
        assertThat(s.cpuShare()).isEqualTo(0.5);
        assertThat(s.queueCapacity()).isEqualTo(16);
        assertThat(AgentSettings.from(io.helidon.config.Config.empty()).shadow()).isEqualTo(io.edgefleet.agent.shadow.ShadowRunner.Settings.defaults());
        Path bad = Files.writeString(dir.resolve("bad-shadow.yaml"), "agent:\n  shadow:\n    share: 1.5\n");
        assertThatThrownBy(() -> AgentSettings.load(bad)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("shadow share");
    }

    @Test
    void a_telemetry_window_of_exactly_one_day_loads_and_one_millisecond_more_is_refused_naming_the_limit() throws Exception {
        Path day = Files.writeString(dir.resolve("day.yaml"), "agent:\n  telemetry: { window-ms: 86400000 }\n");
        assertThat(AgentSettings.load(day).telemetry().window()).isEqualTo(io.edgefleet.protocols.messages.TelemetryRecord.MAX_WINDOW);
        Path over = Files.writeString(dir.resolve("over.yaml"), "agent:\n  telemetry: { window-ms: 86400001 }\n");
        assertThatThrownBy(() -> AgentSettings.load(over)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 day")
                .hasMessageContaining("86400001 ms");
        Path negative = Files.writeString(dir.resolve("negative.yaml"), "agent:\n  telemetry: { window-ms: -5 }\n");
        assertThatThrownBy(() -> AgentSettings.load(negative)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("10 ms .. 1 day");
    }

    @Test
    void escalation_settings_become_per_model_policies() throws Exception {
        Path yaml = Files.writeString(dir.resolve("agent.yaml"), """
                agent:
                  data-dir: %s
                  escalation:
                    url: http://127.0.0.1:9999
                    breaker: { failures: 5, open-ms: 2500 }
                    models:
                      kws: { measure: margin, threshold: 0.3, max-share: 0.2, deadline-ms: 300 }
                      person: { threshold: 0.6 }
                """.formatted(dir.resolve("data")));
        AgentConfig.Escalation e = AgentSettings.load(yaml).escalation().orElseThrow();
        assertThat(e.url().toString()).isEqualTo("http://127.0.0.1:9999");
        assertThat(e.breakerFailures()).isEqualTo(5);
        assertThat(e.breakerOpen()).isEqualTo(Duration.ofMillis(2500));
        assertThat(e.policies().get("kws")).isEqualTo(new EscalationPolicy(EscalationPolicy.Measure.MARGIN, 0.3, 0.2, Duration.ofMillis(300)));
        assertThat(e.policies().get("person").measure()).isEqualTo(EscalationPolicy.Measure.MAX_PROBABILITY);
        assertThat(e.policies().get("person").threshold()).isEqualTo(0.6);
    }

    @Test
    void the_tracing_node_is_read_from_the_file() throws Exception {
        Path yaml = Files.writeString(dir.resolve("agent.yaml"), """
                agent:
                  data-dir: %s
                  tracing:
                    enabled: true
                    otlp-endpoint: http://collector:4318
                    sampler-ratio: 0.5
                """.formatted(dir.resolve("data")));
        io.edgefleet.transport.tracing.TracingSettings t = AgentSettings.tracing(java.util.Optional.of(yaml));
        // the OTEL_* variables would win; CI does not set them
        if (System.getenv("OTEL_TRACES_EXPORTER") == null && System.getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == null
                && System.getenv("OTEL_SDK_DISABLED") == null && System.getenv("OTEL_TRACES_SAMPLER_ARG") == null
                && System.getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == null && System.getenv("OTEL_SERVICE_NAME") == null) {
            assertThat(t).isEqualTo(new io.edgefleet.transport.tracing.TracingSettings(true,
                    java.net.URI.create("http://collector:4318/v1/traces"), 0.5, "edgefleet-agent"));
        }
        Path bad = Files.writeString(dir.resolve("bad.yaml"), "agent:\n  tracing:\n    sampler-ratio: lots\n");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> AgentSettings.tracing(java.util.Optional.of(bad)))
                .hasMessageContaining("tracing.sampler-ratio must be a number between 0 and 1, got 'lots'");
    }

    @Test
    void tls_settings_give_cloud_credentials_an_https_api_and_coap_over_dtls() throws Exception {
        var ca = io.edgefleet.transport.pki.CertificateAuthority.create("ca", Duration.ofDays(1));
        ca.save(dir);
        var kp = io.edgefleet.transport.pki.KeyPairs.ecP256();
        var id = io.edgefleet.transport.pki.Identity.device("f", "d");
        io.edgefleet.transport.pki.Pem.writePublic(dir.resolve("cert.pem"), io.edgefleet.transport.pki.Pem.write(
                ca.issueServer(kp.getPublic(), id, java.util.List.of("127.0.0.1"), Duration.ofHours(1))));
        io.edgefleet.transport.pki.Pem.writePrivate(dir.resolve("key.pem"), io.edgefleet.transport.pki.Pem.write(kp.getPrivate()));
        Files.writeString(dir.resolve("device.token"), "device-token-0123456789\n");
        Path yaml = Files.writeString(dir.resolve("agent.yaml"), """
                agent:
                  data-dir: %1$s/data
                  http: { tls: { certificate: %1$s/cert.pem, key: %1$s/key.pem } }
                  coap: { dtls: { certificate: %1$s/cert.pem, key: %1$s/key.pem, ca: %1$s/ca.pem } }
                  cloud: { ca: %1$s/ca.pem, certificate: %1$s/cert.pem, key: %1$s/key.pem, token-file: %1$s/device.token }
                """.formatted(dir));
        AgentTls t = AgentSettings.load(yaml).tls();
        assertThat(t.cloud().hasTls()).isTrue();
        assertThat(t.cloud().hasClientCertificate()).isTrue();
        assertThat(t.cloud().hasBearer()).isTrue();
        var req = t.cloud().authorize(java.net.http.HttpRequest.newBuilder(java.net.URI.create("https://x/"))).build();
        assertThat(req.headers().firstValue("Authorization")).hasValue("Bearer device-token-0123456789");
        assertThat(t.localHttp()).isPresent();
        assertThat(t.coap().orElseThrow().chain()).hasSize(1);
        assertThat(t.coap().orElseThrow().trusted()).hasSize(1);
        assertThat(t.coap().orElseThrow().toString()).doesNotContain("PRIVATE");
        assertThat(AgentSettings.from(io.helidon.config.Config.empty()).tls().coap()).isEmpty();
    }

    @Test
    void sync_comes_from_the_yaml_defaulting_to_the_control_plane_and_a_ca_alone_is_trust_not_a_client_certificate() throws Exception {
        var keys = io.edgefleet.sync.signing.Keys.generate();
        Files.writeString(dir.resolve("edgefleet-registry.pub"), io.edgefleet.sync.signing.Keys.encode(keys.getPublic()) + "\n");
        var ca = io.edgefleet.transport.pki.CertificateAuthority.create("ca", Duration.ofDays(1));
        ca.save(dir);
        Path yaml = Files.writeString(dir.resolve("agent.yaml"), """
                agent:
                  data-dir: %1$s/data
                  identity: { control-plane: "https://cloud.example:8080" }
                  sync: { trust: [ { key-id: edgefleet-registry, file: %1$s/edgefleet-registry.pub } ], bytes-per-second: 1000000 }
                  cloud: { ca: %1$s/ca.pem }
                """.formatted(dir));
        AgentConfig c = AgentSettings.load(yaml);
        AgentConfig.Sync sync = c.sync().orElseThrow();
        assertThat(sync.url()).hasToString("https://cloud.example:8080");
        assertThat(sync.trust()).containsOnlyKeys("edgefleet-registry");
        assertThat(sync.trust().get("edgefleet-registry").getEncoded()).isEqualTo(keys.getPublic().getEncoded());
        assertThat(sync.bytesPerSecond()).isEqualTo(1_000_000);
        // a CA alone trusts; the enrolled identity's certificate is what authenticates the device (EdgeAgent)
        assertThat(c.tls().cloud().hasTls()).isTrue();
        assertThat(c.tls().cloud().hasClientCertificate()).isFalse();

        Path noTrust = Files.writeString(dir.resolve("no-trust.yaml"), """
                agent:
                  sync: { url: "https://cloud.example:8080" }
                """);
        assertThatThrownBy(() -> AgentSettings.load(noTrust)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("agent.sync needs at least one trust entry");
        Path missingKey = Files.writeString(dir.resolve("missing-key.yaml"), """
                agent:
                  sync: { url: "https://cloud.example:8080", trust: [ { key-id: k1, file: %s/nope.pub } ] }
                """.formatted(dir));
        assertThatThrownBy(() -> AgentSettings.load(missingKey)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("agent.sync.trust k1: cannot read the public key");
        Path noUrl = Files.writeString(dir.resolve("no-url.yaml"), """
                agent:
                  sync: { trust: [ { key-id: edgefleet-registry, file: %s/edgefleet-registry.pub } ] }
                """.formatted(dir));
        assertThatThrownBy(() -> AgentSettings.load(noUrl)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("agent.sync needs a url");
    }

    @Test
    void central_logs_come_from_agent_logs_with_defaults_for_what_is_left_out() throws Exception {
        Path yaml = Files.writeString(dir.resolve("logs.yaml"), """
                agent:
                  logs: { level: ERROR, max-records: 5, period-ms: 1000, loggers: [io.edgefleet.agent] }
                  telemetry: { window-ms: 500 }
                """);
        var l = AgentSettings.load(yaml).telemetry().logs();
        assertThat(l.forward()).isTrue();
        assertThat(l.level()).isEqualTo(java.util.logging.Level.SEVERE);
        assertThat(l.maxRecords()).isEqualTo(5);
        assertThat(l.period()).isEqualTo(Duration.ofSeconds(1));
        assertThat(l.maxOutboxRows()).isEqualTo(1000);
        assertThat(l.loggers()).containsExactly("io.edgefleet.agent");
        assertThat(AgentSettings.load(Files.writeString(dir.resolve("off.yaml"), "agent:\n  logs: { forward: false }\n")).telemetry().logs().forward())
                .isFalse();
        Path bad = Files.writeString(dir.resolve("bad-logs.yaml"), "agent:\n  logs: { level: LOUD }\n");
        assertThatThrownBy(() -> AgentSettings.load(bad)).hasMessageContaining("agent.logs.level").hasMessageContaining("'LOUD'");
    }

    @Test
    void a_missing_garbled_or_mistyped_file_is_one_line_naming_the_file() throws Exception {
        Path missing = dir.resolve("nope.yaml");
        assertThatThrownBy(() -> AgentSettings.load(missing)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("configuration " + missing + ": no such file");
        Path garbled = Files.writeString(dir.resolve("garbled.yaml"), "agent:\n  http: [port: 1\n  : :\n");
        assertThatThrownBy(() -> AgentSettings.load(garbled)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("configuration " + garbled + ": ")
                .hasMessageContaining("line ")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        Path mistyped = Files.writeString(dir.resolve("mistyped.yaml"), "agent:\n  http:\n    port: eighty\n");
        assertThatThrownBy(() -> AgentSettings.load(mistyped)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("configuration " + mistyped + ": ")
                .hasMessageContaining("'eighty'").hasMessageContaining("agent.http.port")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n").doesNotContain("Lambda").doesNotContain("mapper"));
    }

    @Test
    void a_bad_policy_is_refused_naming_it() throws Exception {
        Path yaml = Files.writeString(dir.resolve("agent.yaml"), """
                agent:
                  data-dir: %s
                  escalation:
                    url: http://127.0.0.1:9999
                    models:
                      kws: { measure: vibes, threshold: 0.3 }
                """.formatted(dir.resolve("data")));
        assertThatThrownBy(() -> AgentSettings.load(yaml)).hasMessageContaining("escalation").hasMessageContaining("VIBES");
    }

    @Test
    void self_test_and_watchdog_limits_come_from_their_keys_and_default_the_rest() throws Exception {
        Path yaml = Files.writeString(dir.resolve("agent.yaml"), """
                agent:
                  data-dir: %s
                  slots: { max-latency-factor: 4.0, latency-floor-ms: 3.5, self-test-pairs: 80, self-test-min-pairs: 40, self-test-budget-ms: 1500 }
                  watchdog:
                    bake-ms: 300000
                    min-requests: 40
                    max-error-rate: 0.1
                    window-ms: 20000
                    max-latency-factor: 2.5
                    latency-floor-ms: 5
                    sustained-windows: 4
                    min-baseline-requests: 100
                    pairs-per-window: 8
                """.formatted(dir.resolve("data")));
        AgentConfig c = AgentSettings.load(yaml);
        assertThat(c.selfTest()).isEqualTo(new io.edgefleet.agent.slots.SelfTest.Limits(4.0, 3.5, 80, 40, Duration.ofMillis(1500)));
        assertThat(c.watchdog()).isEqualTo(new io.edgefleet.agent.slots.Watchdog.Limits(Duration.ofMinutes(5), 40, 0.1, 0.0, 2.5,
                Duration.ofSeconds(20), 5.0, 4, 100, 8));
        Path empty = Files.writeString(dir.resolve("empty.yaml"), "agent:\n  data-dir: %s\n".formatted(dir.resolve("data")));
        AgentConfig d = AgentSettings.load(empty);
        assertThat(d.selfTest()).isEqualTo(io.edgefleet.agent.slots.SelfTest.Limits.defaults());
        assertThat(d.watchdog()).isEqualTo(io.edgefleet.agent.slots.Watchdog.Limits.defaults());
    }

    @Test
    void a_watchdog_whose_windows_outlast_its_bake_is_refused_naming_the_rule() throws Exception {
        Path yaml = Files.writeString(dir.resolve("agent.yaml"), """
                agent:
                  data-dir: %s
                  watchdog: { bake-ms: 20000, window-ms: 10000 }
                """.formatted(dir.resolve("data")));
        assertThatThrownBy(() -> AgentSettings.load(yaml)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("watchdog: 3 windows of 10000 ms do not fit in a bake of 20000 ms, so the latency trigger could never fire");
    }

    @Test
    void the_models_folder_is_lenient_unless_models_strict_is_set_and_ports_default_to_8000_and_5683() throws Exception {
        Path lenient = Files.writeString(dir.resolve("lenient.yaml"), """
                agent:
                  data-dir: %s
                  models-dir: %s
                """.formatted(dir.resolve("data"), dir.resolve("models")));
        AgentConfig c = AgentSettings.load(lenient);
        assertThat(c.modelsDir()).contains(new AgentConfig.ModelsDir(dir.resolve("models"), false));
        assertThat(c.httpPort()).isEqualTo(8000);
        assertThat(c.coapPort()).isEqualTo(5683);
        Path strict = Files.writeString(dir.resolve("strict.yaml"), """
                agent:
                  data-dir: %s
                  models-dir: %s
                  models-strict: true
                """.formatted(dir.resolve("data"), dir.resolve("models")));
        assertThat(AgentSettings.load(strict).modelsDir()).contains(new AgentConfig.ModelsDir(dir.resolve("models"), true));
    }

    @Test
    void http_and_mqtt_bounds_are_read_and_default_to_the_documented_values() throws Exception {
        Path yaml = Files.writeString(dir.resolve("agent.yaml"), """
                agent:
                  data-dir: %s
                  http: { idle-timeout-ms: 5000, header-timeout-ms: 2000, body-read-timeout-ms: 7000, max-connections: 32, max-concurrent-requests: 8 }
                  mqtt: { max-in-flight: 12 }
                """.formatted(dir.resolve("data")));
        AgentConfig c = AgentSettings.load(yaml);
        assertThat(c.httpLimits()).isEqualTo(new io.edgefleet.http.limits.HttpLimits(Duration.ofSeconds(5), Duration.ofSeconds(2),
                Duration.ofSeconds(7), 32, 8));
        assertThat(c.mqttMaxInFlight()).isEqualTo(12);
        AgentConfig d = AgentSettings.load(Files.writeString(dir.resolve("empty.yaml"), "agent:\n  fleet: f\n"));
        assertThat(d.httpLimits()).isEqualTo(new io.edgefleet.http.limits.HttpLimits(Duration.ofSeconds(30), Duration.ofSeconds(10),
                Duration.ofSeconds(30), 256, 128));
        assertThat(d.mqttMaxInFlight()).isEqualTo(256);
    }

    @Test
    void identity_settings_give_the_control_plane_the_token_and_the_renewal_schedule() throws Exception {
        Path yaml = Files.writeString(dir.resolve("agent.yaml"), """
                agent:
                  data-dir: %s
                  identity:
                    control-plane: https://cloud.example:8080
                    enrol-token: "ef1.x"
                    renew-at: 0.5
                    retry-min-ms: 200
                    retry-max-ms: 60000
                    enrol-timeout-ms: 0
                """.formatted(dir.resolve("data")));
        AgentConfig c = AgentSettings.load(yaml);
        var e = c.enrolment().orElseThrow();
        assertThat(e.controlPlane().toString()).isEqualTo("https://cloud.example:8080");
        assertThat(e.token()).hasValue("ef1.x");
        assertThat(e.renewAt()).isEqualTo(0.5);
        assertThat(e.retryMin()).isEqualTo(Duration.ofMillis(200));
        assertThat(e.retryMax()).isEqualTo(Duration.ofMinutes(1));
        assertThat(e.enrolTimeout()).isZero();
        assertThat(e.toString()).doesNotContain("ef1.x");
        assertThat(c.identityDir()).isEqualTo(dir.resolve("data").resolve("identity"));
        Path bad = Files.writeString(dir.resolve("bad.yaml"), """
                agent:
                  identity: { control-plane: ftp://cloud, renew-at: 0.5 }
                """);
        assertThatThrownBy(() -> AgentSettings.load(bad)).hasMessageContaining("identity.control-plane");
    }
}
