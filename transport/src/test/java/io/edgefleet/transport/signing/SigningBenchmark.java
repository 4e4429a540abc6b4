package io.edgefleet.transport.signing;

import io.edgefleet.transport.pki.CertificateAuthority;
import io.edgefleet.transport.pki.Identity;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Cost of proof of sender per message, printed as a ratio against the unsigned path: the control
 * plane decodes every telemetry batch anyway, so the ratio is (decode + verify) over decode, on a
 * three-record batch as agents send them. Not a test: run with
 * {@code java -cp ... io.edgefleet.transport.signing.SigningBenchmark [messages]}, or through
 * {@code SigningBenchmarkTest} ({@code -Dtest=SigningBenchmarkTest}).
 */
public final class SigningBenchmark {
    private SigningBenchmark() {
    }

    public static void main(String[] args) {
        System.out.println(run(args.length > 0 ? Integer.parseInt(args[0]) : 20_000));
    }

    static String run(int n) {
        CertificateAuthority ca = CertificateAuthority.create("bench CA", Duration.ofDays(1));
        Identity id = Identity.device("bench", "d1");
        SenderSignatureTest.Enrolled d = SenderSignatureTest.enrol(ca, id);
        SenderVerifier v = new SenderVerifier(new InMemoryDeviceCertificates().add(d.cert()));
        String topic = "ef/v1/bench/d1/telemetry";
        io.edgefleet.protocols.messages.MessageCodec json = io.edgefleet.protocols.messages.MessageCodec.json();
        Instant w = Instant.parse("2026-11-30T00:00:00Z");
        java.util.List<io.edgefleet.protocols.messages.TelemetryRecord> records = new java.util.ArrayList<>();
        for (int m = 0; m < 3; m++) {
            records.add(new io.edgefleet.protocols.messages.TelemetryRecord("model-" + m, "1.0." + m, w, w.plusSeconds(10), 120, 1,
                    new io.edgefleet.protocols.messages.LatencyPercentiles(3.1, 7.9, 12.4, 15.0), java.util.OptionalDouble.of(0.91), 2, 0, 4,
                    Map.of()));
        }
        byte[] payload = json.encode(new io.edgefleet.protocols.messages.TelemetryBatch("bench", "d1", 7, w, records));
        Instant now = Instant.now();
        long sink = 0;
        for (int round = 0; round < 2; round++) { // the first round warms the JIT up
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                sink += json.decode(payload, io.edgefleet.protocols.messages.TelemetryBatch.class).records().size();
            }
            long unsigned = System.nanoTime() - t0;
            t0 = System.nanoTime();
            List<Map.Entry<String, String>> props = null;
            for (int i = 0; i < n; i++) {
                props = d.signer().sign(topic, payload).userProperties();
            }
            long sign = System.nanoTime() - t0;
            t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                sink += v.verify(id, topic, payload, props, now).isAccepted() ? 1 : 0;
            }
            long verify = System.nanoTime() - t0;
            if (round == 1) {
                double perSign = sign / 1e3 / n;
                double perVerify = verify / 1e3 / n;
                double perUnsigned = unsigned / 1e3 / n;
                return String.format(java.util.Locale.ROOT, "proof of sender, %d messages of %d bytes: sign %.1f us, verify %.1f us, "
                        + "decoding the batch (the unsigned path) %.1f us per message; control plane signed/unsigned ratio %.2f (decode + verify over decode) (%d)",
                        n, payload.length, perSign, perVerify, perUnsigned, (perUnsigned + perVerify) / perUnsigned, sink % 2);
            }
        }
        throw new AssertionError();
    }
}
