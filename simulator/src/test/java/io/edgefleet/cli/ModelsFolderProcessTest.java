package io.edgefleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.testkit.Ports;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code edgefleet agent --models-dir} as a real process with a folder holding a file it cannot
 * load: it serves the others over HTTP and answers "not ready" (503) with the reason for the bad
 * one; with {@code --strict} it exits non-zero naming the file instead.
 */
class ModelsFolderProcessTest {
    static final Path SHARED = io.edgefleet.testkit.SharedModels.dir();
    static final String REQUEST = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}";

    @TempDir
    Path dir;

    private Path folder() throws Exception {
        Path models = Files.createDirectories(dir.resolve("models"));
        Files.move(SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("synth"))), models.resolve("cls.onnx"));
        byte[] good = Files.readAllBytes(models.resolve("cls.onnx"));
        Files.write(models.resolve("garbage.onnx"), Arrays.copyOf(good, good.length / 3));
        Path newerOps = io.edgefleet.testkit.SharedModels.require("micro_speech/audio_preprocessor_int8.tflite"); // skips, or fails in CI
        Files.copy(newerOps, models.resolve("preproc.tflite"));
        return models;
    }

    @Test
    void an_agent_serves_the_models_it_can_load_and_says_why_the_others_are_not_ready() throws Exception {
        int port = Ports.freePort();
        String base = "http://127.0.0.1:" + port;
        try (ChildJvm agent = ChildJvm.start(dir.resolve("agent.log"), "agent", "--data-dir", dir.resolve("data").toString(),
                "--models-dir", folder().toString(), "--http-port", Integer.toString(port), "--coap-port", "-1")) {
            agent.awaitOk(base + "/v2/health/ready");
            HttpResponse<String> ok = ChildJvm.post(base + "/v2/models/cls/infer", REQUEST);
            assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
            HttpResponse<String> preproc = ChildJvm.get(base + "/v2/models/preproc/ready");
            assertThat(preproc.statusCode()).isEqualTo(503);
            assertThat(preproc.body()).contains("model 'preproc' is not ready: preproc.tflite did not load", "CAST");
            HttpResponse<String> garbage = ChildJvm.get(base + "/v2/models/garbage");
            assertThat(garbage.statusCode()).isEqualTo(503);
            assertThat(garbage.body()).contains("garbage.onnx did not load");
            assertThat(ChildJvm.get(base + "/observe/health").body()).contains("not_ready.preproc", "not_ready.garbage");
            assertThat(agent.log()).contains("ready: " + base + "/v2", "serving {cls=", "not ready {garbage=", "preproc=");
            agent.process().destroy();
            assertThat(agent.process().waitFor(30, TimeUnit.SECONDS)).as("SIGTERM ends it; log:%n%s", agent.log()).isTrue();
        }
    }

    @Test
    void with_strict_the_agent_exits_non_zero_naming_the_file_that_did_not_load() throws Exception {
        int port = Ports.freePort();
        try (ChildJvm agent = ChildJvm.start(dir.resolve("agent.log"), "agent", "--data-dir", dir.resolve("data").toString(),
                "--models-dir", folder().toString(), "--strict", "--http-port", Integer.toString(port), "--coap-port", "-1")) {
            assertThat(agent.awaitExit(ChildJvm.PATIENCE)).isNotZero();
            String log = agent.log();
            assertThat(log).contains("edgefleet: model '").doesNotContain("ready:");
            assertThat(log.lines().filter(l -> l.startsWith("edgefleet: ")).toList()).as(log).hasSize(1)
                    .allMatch(l -> l.contains("garbage") || l.contains("preproc"));
        }
    }
}
