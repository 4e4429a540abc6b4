package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.protocols.Json;
import io.edgefleet.transport.pki.Csr;
import io.edgefleet.transport.pki.Identity;
import io.edgefleet.transport.pki.KeyPairs;
import io.edgefleet.transport.pki.Pem;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Time to enrol 1,000 devices against a real control plane over real HTTP, each one as an agent
 * does it: generate a P-256 key, sign a CSR, {@code POST /api/v1/enrol} with a fleet token (1,000
 * uses), read back the certificate. Prints devices/s and where the time goes (client key
 * generation + CSR versus the HTTP round trip, which holds the server's checks, the CA signature and
 * the SQLite transaction). Run: {@code ./mvnw -pl cloud-control-plane -am -Pslow -Dtest=EnrolmentBenchmark
 * -Dsurefire.failIfNoSpecifiedTests=false verify} ({@code -Dedgefleet.bench.devices=N}, {@code -Dedgefleet.bench.clients=C});
 * figures in docs/benchmarks.md.
 */
@Tag("slow")
class EnrolmentBenchmark {
    static final int DEVICES = Integer.getInteger("edgefleet.bench.devices", 1_000);
    static final int CLIENTS = Integer.getInteger("edgefleet.bench.clients", 8);
    static final ObjectMapper JSON = Json.jsonMapper(io.edgefleet.protocols.DecodeLimits.DEFAULT);
    @TempDir
    Path dir;

    @Test
    void enrol_1000_devices() throws Exception {
        try (ControlPlane cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")));
                HttpClient http = HttpClient.newBuilder().executor(Executors.newFixedThreadPool(CLIENTS)).build();
                ExecutorService pool = Executors.newFixedThreadPool(CLIENTS)) {
            URI base = URI.create("http://127.0.0.1:" + cp.port());
            String token = CloudTestSupport.client(cp, OPERATOR).post("/api/v1/enrolment-tokens",
                    Map.of("fleet", "bench", "uses", DEVICES + 10, "ttlSeconds", 3600)).json().path("token").asText();
            enrol(http, base, token, "warmup-0"); // JIT and connection warm-up, not counted
            // the CA's share of a round trip: verifying the CSR and signing a certificate, in process, one thread
            var sample = Csr.create(KeyPairs.ecP256(), Identity.device("bench", "sample"));
            for (int i = 0; i < 50; i++) {
                cp.pki().authority().issue(sample, Identity.device("bench", "sample"), java.time.Duration.ofDays(1));
            }
            long c0 = System.nanoTime();
            for (int i = 0; i < 200; i++) {
                cp.pki().authority().issue(sample, Identity.device("bench", "sample"), java.time.Duration.ofDays(1));
            }
            double caMillis = (System.nanoTime() - c0) / 1e6 / 200;
            AtomicLong keyNanos = new AtomicLong();
            AtomicLong httpNanos = new AtomicLong();
            long t0 = System.nanoTime();
            List<Future<Integer>> done = new ArrayList<>();
            for (int i = 0; i < DEVICES; i++) {
                String device = "dev-" + i;
                done.add(pool.submit(() -> {
                    long a = System.nanoTime();
                    KeyPair keys = KeyPairs.ecP256();
                    String csr = Pem.write(Csr.create(keys, Identity.device("bench", device)));
                    long b = System.nanoTime();
                    int status = send(http, base, token, device, csr);
                    httpNanos.addAndGet(System.nanoTime() - b);
                    keyNanos.addAndGet(b - a);
                    return status;
                }));
            }
            for (Future<Integer> f : done) {
                assertThat(f.get()).isEqualTo(201);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf("%nEnrolment benchmark: %d devices, %d concurrent clients, %d cores%n", DEVICES, CLIENTS,
                    Runtime.getRuntime().availableProcessors());
            System.out.printf("  %.1f s, %.0f devices/s%n", seconds, DEVICES / seconds);
            System.out.printf("  per device: key generation + CSR %.2f ms, HTTP enrolment round trip %.2f ms (sums over clients)%n",
                    keyNanos.get() / 1e6 / DEVICES, httpNanos.get() / 1e6 / DEVICES);
            System.out.printf("  CA alone (CSR check + certificate signature, one thread, in process): %.2f ms per device%n", caMillis);
            assertThat(cp.pki().current(Identity.device("bench", "dev-" + (DEVICES - 1)))).hasSize(1);
        }
    }

    private static void enrol(HttpClient http, URI base, String token, String device) throws Exception {
        assertThat(send(http, base, token, device, Pem.write(Csr.create(KeyPairs.ecP256(), Identity.device("bench", device))))).isEqualTo(201);
    }

    private static int send(HttpClient http, URI base, String token, String device, String csr) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/api/v1/enrol")).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(Map.of("device", device, "csr", csr)))).build(),
                HttpResponse.BodyHandlers.ofString());
        return r.statusCode();
    }
}
