package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.engines.synth.SyntheticModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rollout specs and status through the REST API, on a control plane without a broker (no command
 * leaves it, so devices stay pending): strict keys, selectors that match nothing, the gates in force
 * and {@code waitingFor}. Every test owns its model and fleet names.
 */
@org.junit.jupiter.api.extension.ExtendWith(DatabaseParameter.class)
class RolloutApiTest {
    @TempDir
    static Path dir;
    static ControlPlane cp;
    static CloudClient ops;

    /** SQLite, or PostgreSQL in the {@link OnPostgres} subclass. */
    @BeforeAll
    static void start(io.edgefleet.cloud.store.DatabaseSettings database) throws Exception {
        cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withRolloutTick(Duration.ofMillis(50)).withDatabase(database));
        ops = client(cp, OPERATOR);
        Path onnx = SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("onnx")));
        for (String m : List.of("keys", "empty", "joins", "merged", "numbered", "owned")) {
            CloudClient.Response r = ops.pushModel(m, "2", List.of(onnx), List.of(), Map.of(), n -> { });
            assertThat(r.status()).as(r.text()).isEqualTo(201);
        }
    }

    @AfterAll
    static void stop() {
        if (cp != null) {
            cp.close();
        }
    }

    private static CloudClient.Response post(String json) {
        return ops.raw("POST", "/api/v1/rollouts", "application/json", json.getBytes());
    }

    private static void device(String fleet, String device) {
        CloudClient.Response r = ops.raw("PUT", "/api/v1/fleets/" + fleet + "/devices/" + device, "application/json", "{}".getBytes());
        assertThat(r.status()).as(r.text()).isEqualTo(200);
    }

    private static long rolloutsOf(String model) {
        long n = 0;
        for (JsonNode r : ops.get("/api/v1/rollouts").json()) {
            n += r.get("model").asText().equals(model) ? 1 : 0;
        }
        return n;
    }

    @Test
    void a_misspelt_key_is_refused_with_its_path_and_nothing_is_created() {
        device("keys", "d1");
        CloudClient.Response r = post("""
                {"model": "keys", "version": "2", "selector": "fleet=keys", "waves": [{"percent": 100}], "gates": {"minDevice": 3}}
                """);
        assertThat(r.status()).as(r.text()).isEqualTo(400);
        assertThat(r.contentType()).isEqualTo("application/problem+json");
        assertThat(r.json().get("detail").asText()).startsWith("unknown key 'gates.minDevice' (known: ").contains("minDevices");
        CloudClient.Response top = post("""
                {"model": "keys", "version": "2", "selector": "fleet=keys", "wave": [{"percent": 100}]}
                """);
        assertThat(top.status()).as(top.text()).isEqualTo(400);
        assertThat(top.json().get("detail").asText()).startsWith("unknown key 'wave'");
        // A null or non-object wave was a 400 saying only "NullPointerException".
        for (String wave : new String[] {"null", "5", "\"10%\""}) {
            CloudClient.Response bad = post("{\"model\": \"keys\", \"version\": \"2\", \"selector\": \"fleet=keys\", \"waves\": [" + wave + "]}");
            assertThat(bad.status()).as(bad.text()).isEqualTo(400);
            assertThat(bad.json().get("detail").asText()).as(wave).startsWith("waves[0]: a wave is an object such as {percent: 10")
                    .doesNotContain("NullPointer");
        }
        assertThat(rolloutsOf("keys")).isZero();
    }

    @Test
    void values_that_could_never_let_a_rollout_finish_are_refused_naming_the_field() {
        device("never", "d1");
        java.util.Map<String, String> cases = new java.util.LinkedHashMap<>();
        cases.put("\"maxConcurrent\": 0", "maxConcurrent must be >= 1, got 0");
        cases.put("\"maxPerMinute\": 0", "maxPerMinute must be >= 1, got 0");
        cases.put("\"retries\": -1", "retries must be >= 0, got -1");
        cases.put("\"commandTimeout\": \"0s\"", "commandTimeout must be longer than 0, got PT0S");
        cases.put("\"telemetryWait\": \"-5m\"", "telemetryWait must be longer than 0, got PT-5M");
        cases.forEach((field, message) -> {
            CloudClient.Response r = post("{\"model\": \"never\", \"version\": \"2\", \"selector\": \"fleet=never\", "
                    + "\"waves\": [{\"percent\": 100}], " + field + "}");
            assertThat(r.status()).as(field + ": " + r.text()).isEqualTo(400);
            assertThat(r.json().get("detail").asText()).as(field).contains(message);
        });
        assertThat(rolloutsOf("never")).isZero();
    }

    @Test
    void a_selector_matching_no_device_is_refused_naming_the_selector() {
        CloudClient.Response r = post("""
                {"model": "empty", "version": "2", "selector": "fleet=nowhere", "waves": [{"percent": 100}]}
                """);
        assertThat(r.status()).as(r.text()).isEqualTo(400);
        assertThat(r.json().get("detail").asText()).contains("selector 'fleet=nowhere' matches no device").contains("waitForDevices");
        assertThat(rolloutsOf("empty")).isZero();
    }

    @Test
    void with_wait_for_devices_a_rollout_waits_and_says_so_until_a_device_joins() {
        CloudClient.Response r = post("""
                {"model": "joins", "version": "2", "selector": "fleet=later", "waitForDevices": true,
                 "waves": [{"percent": 100, "bake": "1h"}]}
                """);
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        String id = r.json().get("rollout").get("id").asText();
        JsonNode waiting = r.json().get("waitingFor");
        assertThat(waiting).hasSize(1);
        assertThat(waiting.get(0).get("condition").asText()).isEqualTo("devices");
        assertThat(waiting.get(0).get("detail").asText()).contains("fleet=later");
        // Ticks pass (run here, on top of the engine's own): still running and waiting, not "succeeded" with nobody in it.
        cp.rollouts().tick();
        cp.rollouts().tick();
        JsonNode st = status(id);
        assertThat(st.get("rollout").get("state").asText()).isEqualTo("running");
        assertThat(st.get("waitingFor").get(0).get("condition").asText()).isEqualTo("devices");
        device("later", "d1");
        st = awaitStatus(id, "the device joined", s -> s.get("devices").size() == 1);
        assertThat(st.get("rollout").get("state").asText()).isEqualTo("running");
        JsonNode install = st.get("waitingFor").get(0);
        assertThat(install.get("condition").asText()).isEqualTo("install");
        assertThat(install.get("have").asInt()).isZero();
        assertThat(install.get("need").asInt()).isEqualTo(1);
        assertThat(install.get("missing").asInt()).isEqualTo(1);
        assertThat(install.get("detail").asText()).contains("pending");
        assertThat(ops.post("/api/v1/rollouts/" + id + "/abort", Map.of("reason", "test over")).status()).isEqualTo(200);
        assertThat(status(id).get("waitingFor")).isEmpty();
    }

    @Test
    void the_status_shows_the_gates_in_force_with_the_defaults_merged_in() {
        device("merged", "d1");
        CloudClient.Response r = post("""
                {"model": "merged", "version": "2", "selector": "fleet=merged", "waves": [{"percent": 100}],
                 "gates": {"maxP95Ratio": 2.0, "minSamples": 100}}
                """);
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        JsonNode g = r.json().get("gates");
        assertThat(g.get("maxP95Ratio").asDouble()).isEqualTo(2.0);
        assertThat(g.get("minSamples").asInt()).isEqualTo(100);
        assertThat(g.get("maxInstallFailures").asInt()).isZero();
        assertThat(g.get("maxErrorRateIncrease").asDouble()).isEqualTo(0.05);
        assertThat(g.get("maxConfidenceDrop").asDouble()).isEqualTo(0.2);
        assertThat(g.get("maxNonFiniteRate").asDouble()).isZero();
        assertThat(g.get("maxStale").asInt()).isZero();
        assertThat(g.get("minDevices").asInt()).isEqualTo(1);
        assertThat(g.get("minP95IncreaseMs").asDouble()).isEqualTo(5.0);
        assertThat(g.get("sustainedEvaluations").asInt()).isEqualTo(3);
        assertThat(g.has("maxErrorRate")).as("off by default").isFalse();
        // The spec as written is kept as written.
        assertThat(r.json().get("rollout").get("spec").get("gates").size()).isEqualTo(2);
        String id = r.json().get("rollout").get("id").asText();
        assertThat(ops.post("/api/v1/rollouts/" + id + "/abort", Map.of("reason", "test over")).status()).isEqualTo(200);
    }

    @Test
    void every_wave_number_the_api_shows_counts_from_1() {
        device("numbered", "d1");
        device("numbered", "d2");
        device("numbered", "d3");
        CloudClient.Response r = post("""
                {"model": "numbered", "version": "2", "selector": "fleet=numbered",
                 "waves": [{"count": 1, "bake": "1h"}, {"percent": 100}]}
                """);
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        String id = r.json().get("rollout").get("id").asText();
        // No agent answers: the rollout stays in its first wave, waiting for the install.
        JsonNode st = awaitStatus(id, "the devices joined and wave 1 started", s -> s.get("devices").size() == 3
                && s.get("rollout").get("waveStartedAt") != null && !s.get("rollout").get("waveStartedAt").isNull());
        assertThat(st.get("currentWave").asInt()).isEqualTo(1);
        assertThat(st.get("rollout").get("wave").asInt()).as("the rollout's wave is its current wave's number").isEqualTo(1);
        assertThat(st.get("waves").properties()).extracting(java.util.Map.Entry::getKey).containsExactly("1", "2");
        long inWave1 = 0;
        for (JsonNode n : st.get("waves").get("1")) {
            inWave1 += n.asLong();
        }
        assertThat(inWave1).as("wave 1 is the first wave: one device").isEqualTo(1);
        List<Integer> deviceWaves = new java.util.ArrayList<>();
        st.get("devices").forEach(d -> deviceWaves.add(d.get("wave").asInt()));
        assertThat(deviceWaves).containsExactlyInAnyOrder(1, 2, 2);
        assertThat(st.get("log")).isNotEmpty();
        st.get("log").forEach(l -> assertThat(l.get("wave").asInt()).as("log line %s", l).isEqualTo(1));
        assertThat(st.get("waitingFor").get(0).get("detail").asText()).contains("of wave 1 ");
        JsonNode listed = null;
        for (JsonNode x : ops.get("/api/v1/rollouts").json()) {
            listed = x.get("id").asText().equals(id) ? x : listed;
        }
        assertThat(listed).isNotNull();
        assertThat(listed.get("wave").asInt()).as("the list numbers waves as the status does").isEqualTo(1);
        assertThat(ops.post("/api/v1/rollouts/" + id + "/abort", Map.of("reason", "test over")).status()).isEqualTo(200);
    }

    private static JsonNode status(String id) {
        CloudClient.Response r = ops.get("/api/v1/rollouts/" + id);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return r.json();
    }

    /** Polls the status until {@code condition}; fails at once if the rollout ends, or after 20 s. */
    private static JsonNode awaitStatus(String id, String what, java.util.function.Predicate<JsonNode> condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            JsonNode st = status(id);
            if (condition.test(st)) {
                return st;
            }
            String state = st.get("rollout").get("state").asText();
            if (!state.equals("running") || System.nanoTime() > deadline) {
                throw new AssertionError("waiting for " + what + ": rollout is " + state + "; status: " + st);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    @Test
    void an_experiment_cannot_start_on_a_model_whose_rollout_is_not_finished() {
        // A new user started an A/B experiment while a rollout of the same model was still judging its gates.
        CloudClient.Response ro = post("""
                {"model": "owned", "version": "2", "selector": "fleet=owned-later", "waitForDevices": true, "waves": [{"percent": 100}]}
                """);
        assertThat(ro.status()).as(ro.text()).isEqualTo(201);
        String id = ro.json().get("rollout").get("id").asText();
        CloudClient.Response ab = ops.raw("POST", "/api/v1/experiments", "application/json",
                "{\"model\": \"owned\", \"candidate\": \"2\", \"share\": 0.5}".getBytes());
        assertThat(ab.status()).as(ab.text()).isEqualTo(409);
        assertThat(ab.json().get("detail").asText()).contains("rollout " + id + " (running) of 'owned' is not finished")
                .contains("abort or roll it back first");
        assertThat(ops.raw("POST", "/api/v1/rollouts/" + id + "/abort", "application/json", "{}".getBytes()).status()).isEqualTo(200);
        CloudClient.Response after = ops.raw("POST", "/api/v1/experiments", "application/json",
                "{\"model\": \"owned\", \"candidate\": \"2\", \"share\": 0.5}".getBytes());
        assertThat(after.status()).as("the rollout no longer owns the model: the next refusal is about devices").isEqualTo(409);
        assertThat(after.json().get("detail").asText()).contains("no selected device has model 'owned' active");
    }
}
