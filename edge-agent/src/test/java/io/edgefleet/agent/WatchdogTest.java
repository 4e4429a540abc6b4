package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.agent.slots.Watchdog;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local watchdog rolls a new version back by itself when it misbehaves on real traffic. */
class WatchdogTest {
    @TempDir
    Path dir;

    private static InferRequest negative() {
        return InferRequest.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 4}, -1, -2, -3, -4)));
    }

    @Test
    void a_version_that_answers_nan_in_the_field_is_rolled_back_and_reported() throws Exception {
        try (EdgeAgent agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("data")).withHttp("127.0.0.1", 0).withCoapPort(0)
                .withWatchdog(new Watchdog.Limits(Duration.ofMinutes(5), 10, 0.2, 0.0, 3.0)))) {
            List<String> reports = new CopyOnWriteArrayList<>();
            agent.watchdog().onRollback((model, reason) -> reports.add(model + ": " + reason));
            agent.slots().install("cls", "1", SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("v1"))));
            for (int i = 0; i < 50; i++) {
                agent.inference().infer("cls", Optional.empty(), negative()); // a baseline for version 1
            }
            agent.slots().install("cls", "2", SyntheticModels.sqrtOnnx(Files.createDirectories(dir.resolve("v2"))));
            assertThat(agent.slots().activeVersions()).containsEntry("cls", "2"); // passed its self-test on zeros
            for (int i = 0; i < 10; i++) {
                agent.inference().infer("cls", Optional.empty(), negative());
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!agent.slots().activeVersions().get("cls").equals("1") && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(agent.slots().activeVersions()).containsEntry("cls", "1");
            assertThat(reports).singleElement().asString()
                    .isEqualTo("cls: version 2 rolled back to 1: 10 of 10 answers held NaN or infinity");
            assertThat(agent.inference().infer("cls", Optional.empty(), negative()).modelVersion()).contains("1");
        }
    }

    @Test
    void a_healthy_new_version_stays() throws Exception {
        try (EdgeAgent agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("data")).withHttp("127.0.0.1", 0).withCoapPort(0)
                .withWatchdog(new Watchdog.Limits(Duration.ofMinutes(5), 10, 0.2, 0.0, 50.0)))) {
            agent.slots().install("cls", "1", SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("v1"))));
            agent.slots().install("cls", "2", SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("v2"))));
            for (int i = 0; i < 100; i++) {
                agent.inference().infer("cls", Optional.empty(), negative());
            }
            Thread.sleep(200);
            assertThat(agent.slots().activeVersions()).containsEntry("cls", "2");
        }
    }
}
