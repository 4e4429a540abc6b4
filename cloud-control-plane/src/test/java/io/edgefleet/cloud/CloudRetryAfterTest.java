package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cloud.inference.BatchingSettings;
import io.edgefleet.cloud.inference.InferenceRoutes;
import io.edgefleet.engines.synth.SyntheticModels;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cloud inference role over real HTTP, overloaded: a full queue answers 429 and a request whose
 * deadline the queue cannot meet answers 504, both with {@code Retry-After}, and the role keeps
 * serving afterwards.
 */
class CloudRetryAfterTest {
    @TempDir
    static Path dir;
    static ControlPlane cp;
    /**
     * A request that is cheap to parse and dear to run: 8×1024 inputs (32 KiB of JSON) through 32
     * layers of 1024×1024 (about 270 million multiply-adds, some 10 ms on a fast core). The queue
     * fills because inference is tens of times slower than parsing on any machine; with a model as
     * cheap to run as to parse (one dense layer on a 64×1024 batch), a fast machine drained the
     * queue as quickly as 24 requests arrived and never answered 429.
     */
    static final String HEAVY = "{\"inputs\":[{\"name\":\"x\",\"shape\":[8,1024],\"datatype\":\"FP32\",\"data\":["
            + String.join(",", Collections.nCopies(8 * 1024, "0.5")) + "]}]}";

    @BeforeAll
    static void start() throws Exception {
        cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withRoles(EnumSet.allOf(Role.class))
                .withBatching(new BatchingSettings(1, Duration.ZERO, 2, Duration.ofSeconds(30))));
        var r = client(cp, OPERATOR).pushModel("dense", "1", List.of(SyntheticModels.mlpOnnx(Files.createDirectories(dir.resolve("v1")), 8, 1024, 32)),
                List.of(), Map.of(), n -> { });
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        // 512 layers on one shared weight matrix and 64 rows: the file stays 4 MiB, a request runs some 34 billion
        // multiply-adds (about a second on one fast core; 8 rows, some 85 ms, were over before a test could queue two more)
        var slow = client(cp, OPERATOR).pushModel("slow", "1", List.of(SyntheticModels.mlpOnnx(Files.createDirectories(dir.resolve("slow")), 64, 1024, 512)),
                List.of(), Map.of(), n -> { });
        assertThat(slow.status()).as(slow.text()).isEqualTo(201);
    }

    @AfterAll
    static void stop() {
        if (cp != null) {
            cp.close();
        }
    }

    /** A request of the slow model: 64×1024 inputs. */
    static final String SLOW = "{\"inputs\":[{\"name\":\"x\",\"shape\":[64,1024],\"datatype\":\"FP32\",\"data\":["
            + String.join(",", Collections.nCopies(64 * 1024, "0.5")) + "]}]}";

    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private static CompletableFuture<HttpResponse<String>> infer(String model, String deadlineMs) {
        URI uri = URI.create("http://127.0.0.1:" + cp.port() + "/v2/models/" + model + "/infer");
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(120)).header("Authorization", "Bearer " + CloudTestSupport.OPERATOR)
                .POST(HttpRequest.BodyPublishers.ofString(model.equals("slow") ? SLOW : HEAVY));
        if (deadlineMs != null) {
            b.header(InferenceRoutes.TIMEOUT_HEADER, deadlineMs);
        }
        return HTTP.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The sum of a metric family's samples on the cloud's Prometheus endpoint, read as a scraper would. */
    private static double metric(String name) throws Exception {
        String text = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cp.port() + "/observe/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return text.lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    /** Batches the cloud has started running, all models together. */
    private static long batchesStarted() throws Exception {
        return (long) metric("edgefleet_cloud_inference_batch_size_count");
    }

    private static void await(String what, java.util.function.BooleanSupplier condition) throws Exception {
        long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what + " within 60 s").isLessThan(until);
            Thread.sleep(5);
        }
    }

    /** Sends a request on the slow model and returns once the model's only worker runs it. */
    private static CompletableFuture<HttpResponse<String>> runningSlowRequest() throws Exception {
        long before = batchesStarted();
        CompletableFuture<HttpResponse<String>> running = infer("slow", null);
        await("the slow request started", () -> {
            try {
                assertThat(running).as("the slow request is still running").isNotDone();
                return batchesStarted() > before;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        return running;
    }

    private static List<HttpResponse<String>> burst(String model, int n, String deadlineMs) throws Exception {
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            sent.add(infer(model, deadlineMs));
        }
        List<HttpResponse<String>> out = new ArrayList<>();
        for (CompletableFuture<HttpResponse<String>> f : sent) {
            out.add(f.get());
        }
        return out;
    }

    /**
     * Both by design, not by arrival timing (24 concurrent requests on a fast model, as before, never filled the queue
     * when a loaded machine spaced their arrivals out; three 1 ms requests each found an idle worker): the slow model's
     * only worker runs a request that takes about a second while 8 more arrive for its queue of 2, so some find it full
     * (429) and the ones it took are answered; later a request with a 1 ms deadline waits behind a running one, so its
     * deadline has passed when the worker takes it (504).
     */
    @Test
    void a_full_queue_is_429_and_a_missed_deadline_504_both_with_retry_after() throws Exception {
        CompletableFuture<HttpResponse<String>> running = runningSlowRequest();
        List<HttpResponse<String>> full = burst("slow", 8, null);
        assertThat(full).extracting(HttpResponse::statusCode).as("a queue of 2 against 8 requests behind a running one").contains(429)
                .allMatch(s -> s == 200 || s == 429);
        full.stream().filter(r -> r.statusCode() == 429)
                .forEach(r -> assertThat(r.headers().firstValue("Retry-After")).as(r.body()).contains("1"));
        assertThat(full.stream().filter(r -> r.statusCode() == 429).findFirst().orElseThrow().body()).contains("queue", "full");
        assertThat(full).extracting(HttpResponse::statusCode).as("the accepted ones are answered").contains(200);
        assertThat(running.get().statusCode()).isEqualTo(200);

        CompletableFuture<HttpResponse<String>> ahead = runningSlowRequest();
        HttpResponse<String> late = infer("slow", "1").get();
        assertThat(late.statusCode()).as(late.body()).isEqualTo(504);
        assertThat(late.headers().firstValue("Retry-After")).as(late.body()).contains("1");
        assertThat(late.body()).contains("deadline");
        assertThat(ahead.get().statusCode()).as("the slow request itself").isEqualTo(200);

        assertThat(burst("dense", 1, null)).extracting(HttpResponse::statusCode).as("still serving").containsExactly(200);
    }
}
