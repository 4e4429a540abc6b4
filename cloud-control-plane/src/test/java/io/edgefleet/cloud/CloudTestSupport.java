package io.edgefleet.cloud;

import io.edgefleet.cloud.api.Token;
import io.edgefleet.cloud.client.CloudClient;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/** Shared bits of the control-plane tests. */
final class CloudTestSupport {
    static final String OPERATOR = "operator-token-0123456789";
    static final String VIEWER = "viewer-token-0123456789ab";
    /** {@link io.edgefleet.testkit.SharedModels#dir()}; a test that needs a model gets it with {@code SharedModels.require}. */
    static final Path MODELS = io.edgefleet.testkit.SharedModels.dir();

    private CloudTestSupport() {
    }

    /** Plain HTTP (explicitly: TLS is the embedded default; the TLS tests use {@link #tlsConfig}). */
    static CloudConfig config(Path dir) {
        return tlsConfig(dir).withHttpTls(io.edgefleet.cloud.tls.HttpTls.plain());
    }

    /** The embedded default: HTTPS with a certificate from the CA in {@code dir/pki}. */
    static CloudConfig tlsConfig(Path dir) {
        return CloudConfig.defaults(dir).withHttp("127.0.0.1", 0)
                .withTokens(List.of(new Token("ops", Token.Role.OPERATOR, OPERATOR), new Token("dash", Token.Role.VIEWER, VIEWER)));
    }

    /** An agent's credential towards sync and cloud inference in the plain-HTTP tests: the operator token. */
    static io.edgefleet.agent.AgentTls agentToken() {
        return io.edgefleet.agent.AgentTls.none().withCloud(io.edgefleet.transport.http.HttpCredentials.none().withBearer(() -> OPERATOR));
    }

    static CloudClient client(ControlPlane cp, String token) {
        return new CloudClient(URI.create("http://127.0.0.1:" + cp.port()), Optional.ofNullable(token));
    }

    /** Polls until the condition holds; fails with {@code what} after the timeout. */
    static void await(Duration timeout, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
