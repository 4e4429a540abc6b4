package io.edgefleet.transport.mqtt;

import static io.edgefleet.transport.mqtt.MqttSessionTest.await;
import static io.edgefleet.transport.mqtt.MqttSessionTest.awaitSubscribed;
import static io.edgefleet.transport.mqtt.MqttSessionTest.next;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.testkit.Mosquitto;
import io.edgefleet.testkit.MosquittoBroker;
import io.edgefleet.transport.pki.CertificateAuthority;
import io.edgefleet.transport.pki.Csr;
import io.edgefleet.transport.pki.Identity;
import io.edgefleet.transport.pki.KeyPairs;
import io.edgefleet.transport.pki.Pem;
import io.edgefleet.transport.pki.TlsContexts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The session over TLS against a real Mosquitto whose listener requires a client certificate from
 * the fleet CA and takes its CN as the user name: mutual TLS works, survives a broker restart, and
 * is refused both ways when a certificate is missing or comes from another CA.
 */
class MqttSessionTlsTest {
    private static CertificateAuthority ca;
    private static MosquittoBroker broker;
    private final List<MqttSession> sessions = new ArrayList<>();
    @TempDir
    static Path dir;

    @BeforeAll
    static void broker() {
        ca = CertificateAuthority.create("EdgeFleet test CA", Duration.ofDays(1));
        broker = Mosquitto.startSecured((port, folder) -> "listener " + port + " 127.0.0.1\n"
                + "cafile " + folder.resolve("ca.pem") + "\n"
                + "certfile " + folder.resolve("server.pem") + "\n"
                + "keyfile " + folder.resolve("server-key.pem") + "\n"
                + "require_certificate true\n"
                + "use_identity_as_username true\n"
                + "allow_anonymous false\n", folder -> {
                    KeyPair keys = KeyPairs.ecP256();
                    X509Certificate server = ca.issueServer(keys.getPublic(), Identity.service("mqtt-broker"), List.of("127.0.0.1"),
                            Duration.ofDays(1));
                    Pem.writePublic(folder.resolve("ca.pem"), Pem.write(ca.certificate()));
                    Pem.writePublic(folder.resolve("server.pem"), Pem.write(server));
                    Pem.writePrivate(folder.resolve("server-key.pem"), Pem.write(keys.getPrivate()));
                });
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    @BeforeEach
    void up() {
        if (!broker.isRunning()) {
            broker.start();
        }
    }

    @AfterEach
    void closeAll() {
        sessions.forEach(MqttSession::close);
    }

    private static String url() {
        return "ssl://127.0.0.1:" + broker.port();
    }

    /** A client context for {@code identity}, its certificate from {@code issuer}, trusting {@code trusted}. */
    private static SSLContext client(CertificateAuthority issuer, Identity identity, X509Certificate trusted) {
        KeyPair keys = KeyPairs.ecP256();
        X509Certificate cert = issuer.issue(Csr.create(keys, identity), identity, Duration.ofHours(1));
        return TlsContexts.of(keys.getPrivate(), List.of(cert), List.of(trusted));
    }

    private MqttSession session(String id, Supplier<SSLContext> tls, MqttSession.Handler h, String... filters) {
        SessionConfig c = SessionConfig.of(url(), id, java.util.Optional.of(tls)).withCleanStart(true, 0).withReconnect(Duration.ofMillis(250), Duration.ofSeconds(1));
        for (String f : filters) {
            c = c.withSubscription(f);
        }
        MqttSession s = MqttSession.create(c, h);
        sessions.add(s);
        s.start();
        return s;
    }

    @Test
    void mutual_tls_round_trip_and_reconnect_after_a_broker_restart_with_the_context_read_again() throws Exception {
        BlockingQueue<Delivery> inbox = new LinkedBlockingQueue<>();
        AtomicInteger contexts = new AtomicInteger();
        SSLContext device = client(ca, Identity.device("plant-1", "cam-1"), ca.certificate());
        String topic = Topic.telemetry("plant-1", "cam-1").value();
        MqttSession s = session("tls-cam-1", () -> {
            contexts.incrementAndGet();
            return device;
        }, (d, ack) -> inbox.add(d), topic);
        await("connected over TLS", s::isConnected);
        awaitSubscribed(s, topic, inbox);
        assertThat(s.publish(topic, "over-tls".getBytes(StandardCharsets.UTF_8), false)).isTrue();
        Delivery d = next(inbox);
        assertThat(d).isNotNull();
        assertThat(new String(d.payload(), StandardCharsets.UTF_8)).isEqualTo("over-tls");
        int before = contexts.get();

        broker.restart();
        await("reconnected over TLS", s::isConnected);
        assertThat(contexts.get()).as("the TLS context is asked for again at the reconnect (a renewed certificate is used)")
                .isGreaterThan(before);
        awaitSubscribed(s, topic, inbox);
        assertThat(broker.logTail()).as("the broker took the certificate's CN as the user name").contains("as tls-cam-1 (p5").contains("u'plant-1/cam-1'");
    }

    @Test
    void a_broker_whose_certificate_comes_from_another_ca_is_refused() throws Exception {
        CertificateAuthority other = CertificateAuthority.create("Another CA", Duration.ofDays(1));
        // Our certificate is good for the broker; we trust only the other CA, so the broker's certificate fails PKIX.
        SSLContext ctx = client(ca, Identity.device("plant-1", "cam-2"), other.certificate());
        MqttSession s = session("tls-other-ca", () -> ctx, (d, ack) -> { });
        await("a connect failure", () -> s.lastConnectFailure().isPresent());
        assertThat(s.isConnected()).isFalse();
        assertThat(s.lastConnectFailure().orElseThrow()).contains("SSLHandshakeException").contains("PKIX");
    }

    @Test
    void the_server_hostname_is_verified() throws Exception {
        // The broker's certificate names 127.0.0.1 only; "localhost" reaches the same broker but is not named.
        SSLContext ctx = client(ca, Identity.device("plant-1", "cam-5"), ca.certificate());
        MqttSession s = MqttSession.create(SessionConfig.of("ssl://localhost:" + broker.port(), "tls-host", java.util.Optional.of(() -> ctx))
                .withReconnect(Duration.ofMillis(250), Duration.ofSeconds(1)), (d, ack) -> { });
        sessions.add(s);
        s.start();
        await("a connect failure", () -> s.lastConnectFailure().isPresent());
        assertThat(s.isConnected()).isFalse();
        assertThat(s.lastConnectFailure().orElseThrow()).contains("SSLHandshakeException").containsIgnoringCase("localhost");
    }

    @Test
    void the_broker_refuses_a_client_without_a_certificate_or_with_one_from_another_ca() throws Exception {
        SSLContext anonymous = TlsContexts.trusting(List.of(ca.certificate()));
        MqttSession none = session("tls-no-cert", () -> anonymous, (d, ack) -> { });
        CertificateAuthority other = CertificateAuthority.create("Another CA", Duration.ofDays(1));
        SSLContext foreign = client(other, Identity.device("plant-1", "cam-3"), ca.certificate());
        MqttSession stranger = session("tls-foreign-cert", () -> foreign, (d, ack) -> { });
        // A good client next to them connects, so the broker was there to refuse them.
        SSLContext good = client(ca, Identity.device("plant-1", "cam-4"), ca.certificate());
        MqttSession ok = session("tls-good", () -> good, (d, ack) -> { });
        await("the good client connected", ok::isConnected);
        await("both refused", () -> none.lastConnectFailure().isPresent() && stranger.lastConnectFailure().isPresent());
        assertThat(none.isConnected()).isFalse();
        assertThat(stranger.isConnected()).isFalse();
    }
}
