package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.cloud.inference.Batcher;
import io.edgefleet.cloud.inference.BatchingSettings;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.Engines;
import io.edgefleet.engines.InvalidInputException;
import io.edgefleet.engines.LoadedModel;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cloud inference role under the requests that once aborted the whole control plane on
 * {@code --role all} (an empty Silero VAD batch), over real HTTP: a 400 naming the rule, no
 * runtime text, and the role (and the rest of the control plane) keeps serving. Bad requests never
 * join a dynamic batch.
 */
class CloudBadInputTest {
    static final Path MODELS = io.edgefleet.testkit.SharedModels.dir();
    @TempDir
    static Path dir;
    static ControlPlane cp;
    static CloudClient ops;
    static boolean realModels;

    @BeforeAll
    static void start() throws Exception {
        cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withRoles(EnumSet.allOf(Role.class))
                .withBatching(new BatchingSettings(32, Duration.ofMillis(2), 256, Duration.ofSeconds(10))));
        ops = client(cp, OPERATOR);
        assertThat(ops.pushModel("bcls", "1", List.of(SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("v1")))), List.of(),
                Map.of(), n -> { }).status()).isEqualTo(201);
        Path vad = MODELS.resolve("silero_vad/silero_vad_fp32.onnx");
        realModels = Files.isRegularFile(vad);
        if (realModels) {
            CloudClient.Response r = ops.pushModel("vad", "1", List.of(vad), List.of(), Map.of(), n -> { });
            assertThat(r.status()).as(r.text()).isEqualTo(201);
        }
    }

    @AfterAll
    static void stop() {
        if (cp != null) {
            cp.close();
        }
    }

    static String vad(int batch, int samples, int stateBatch) {
        return io.edgefleet.testkit.SharedModels.sileroRequestJson(batch, samples, stateBatch);
    }

    static CloudClient.Response post(String model, String json) {
        return ops.raw("POST", "/v2/models/" + model + "/infer", "application/json", json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void silero_vad_empty_batch_is_a_400_and_the_control_plane_keeps_serving() {
        io.edgefleet.testkit.SharedModels.require("silero_vad/silero_vad_fp32.onnx"); // skips, or fails where models are required (CI)
        assertThat(realModels).as("vad registered").isTrue();
        CloudClient.Response empty = post("vad", vad(0, 512, 0));
        assertThat(empty.status()).as(empty.text()).isEqualTo(400);
        assertThat(empty.json().get("error").asText()).isEqualTo("model 'vad' input 'input': dimension 0 is 0 in [0,512] "
                + "(expected [-1,-1]); empty tensors are refused: there is nothing to compute");
        CloudClient.Response wrongLength = post("vad", vad(1, 100, 1));
        assertThat(wrongLength.status()).as(wrongLength.text()).isEqualTo(400);
        assertThat(wrongLength.text()).contains("cannot compute inputs of shapes").doesNotContain("node", "If_0", "Conv", "ORT_");
        CloudClient.Response ok = post("vad", vad(1, 576, 1));
        assertThat(ok.status()).as(ok.text()).isEqualTo(200);
        assertThat(ok.text()).contains("\"name\":\"stateN\"");
        assertThat(ops.get("/v2/health/ready").status()).isEqualTo(200);
    }

    /** Empty requests among concurrent good ones: refused alone at once, and the good ones' batches are untouched. */
    @Test
    void empty_requests_racing_good_ones_are_400_and_every_good_one_gets_its_own_answer() throws Exception {
        String good = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}";
        String empty = "{\"inputs\":[{\"name\":\"x\",\"shape\":[0,4],\"datatype\":\"FP32\",\"data\":[]}]}";
        CloudClient.Response single = post("bcls", good);
        assertThat(single.status()).as(single.text()).isEqualTo(200);
        String expected = single.json().get("outputs").get(0).get("data").toString();
        ExecutorService pool = Executors.newFixedThreadPool(32);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<CloudClient.Response>> goods = new ArrayList<>();
            List<Future<CloudClient.Response>> empties = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                boolean bad = i % 4 == 0;
                Future<CloudClient.Response> f = pool.submit(() -> {
                    go.await();
                    return post("bcls", bad ? empty : good);
                });
                (bad ? empties : goods).add(f);
            }
            go.countDown();
            for (Future<CloudClient.Response> f : goods) {
                CloudClient.Response r = f.get(30, TimeUnit.SECONDS);
                assertThat(r.status()).as(r.text()).isEqualTo(200);
                assertThat(r.json().get("outputs").get(0).get("data").toString()).isEqualTo(expected);
            }
            for (Future<CloudClient.Response> f : empties) {
                CloudClient.Response r = f.get(30, TimeUnit.SECONDS);
                assertThat(r.status()).as(r.text()).isEqualTo(400);
                assertThat(r.json().get("error").asText()).contains("dimension 0 is 0 in [0,4]");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void the_batcher_refuses_a_request_the_model_cannot_take_before_it_is_queued() throws Exception {
        Path f = SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("b")));
        LoadedModel model = Engines.forFile(f).load(f, "btfl", EngineOptions.defaults());
        try (Batcher b = new Batcher("btfl", model, new BatchingSettings(8, Duration.ofMillis(5), 4, Duration.ofSeconds(10)), n -> { })) {
            List<InferTensor> empty = List.of(new InferTensor("x", TensorData.ofFloats(new long[] {0, 4})));
            for (int i = 0; i < 10; i++) {
                // more than the queue holds: a refused request takes no place in it
                assertThatThrownBy(() -> b.submit(empty, Duration.ofSeconds(10))).isInstanceOfSatisfying(InvalidInputException.class,
                        e -> assertThat(e.rule()).isEqualTo(InvalidInputException.Rule.EMPTY));
            }
            assertThat(b.queueDepth()).isZero();
            CompletableFuture<List<InferTensor>> ok = b.submit(List.of(new InferTensor("x", TensorData.ofFloats(new long[] {2, 4},
                    1, 2, 3, 4, 0, 0, 0, 0))), Duration.ofSeconds(10));
            assertThat(ok.get(10, TimeUnit.SECONDS).get(0).shape()).containsExactly(2, 3);
        }
    }

    private static String raw(String head, byte[] body) throws java.io.IOException {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new java.net.InetSocketAddress("127.0.0.1", cp.port()), 5000);
            s.setSoTimeout(20_000);
            s.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().write(body);
            s.getOutputStream().flush();
            StringBuilder reply = new StringBuilder();
            java.io.InputStream in = s.getInputStream();
            for (int c; reply.indexOf("}") < 0 && reply.length() < 600 && (c = in.read()) >= 0; ) { // up to the end of the JSON body
                reply.append((char) c);
            }
            return reply.toString();
        }
    }

    /**
     * The listener takes model uploads up to 1 GiB; an inference body is bounded by its own 16 MiB
     * before it is buffered (a 300 MB chunked body once grew the heap by 600 MB before a 400), and
     * malformed chunked framing is the client's 400, not a 500 with a stack trace.
     */
    @Test
    void an_inference_body_over_16_mib_is_413_before_it_is_read_and_malformed_chunking_is_400() throws Exception {
        String oversize = raw("POST /v2/models/bcls/infer HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer " + CloudTestSupport.OPERATOR
                + "\r\nContent-Type: application/json\r\nContent-Length: "
                + (300L << 20) + "\r\n\r\n", new byte[0]); // nothing of the body is sent: the answer cannot wait for it
        assertThat(oversize).startsWith("HTTP/1.1 413").contains("\"error\":\"the request body exceeds the size limit\"").doesNotContain("Exception");
        String badChunks = raw("POST /v2/models/bcls/infer HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer " + CloudTestSupport.OPERATOR
                + "\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n", "ZZZ\r\nabc\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(badChunks).startsWith("HTTP/1.1 400").doesNotContain("Exception").doesNotContain("internal error");
        assertThat(post("bcls", "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}").status())
                .as("still serving").isEqualTo(200);
    }
}
