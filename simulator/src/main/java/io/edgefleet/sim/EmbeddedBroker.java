package io.edgefleet.sim;

import com.hivemq.embedded.EmbeddedExtension;
import com.hivemq.embedded.EmbeddedHiveMQ;
import io.edgefleet.cloud.broker.BrokerRevocation;
import io.edgefleet.cloud.broker.RevocationCheck;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;

/**
 * HiveMQ Community Edition in this JVM: a full MQTT 5 broker (retained messages, shared
 * subscriptions, response topics and correlation data, last wills, persistent sessions), so a
 * simulation needs nothing installed. One listener on 127.0.0.1: plain TCP ({@link #start}), or TLS
 * with client certificates and {@link BrokerSecurity} ({@link #startSecured}); sessions, retained messages
 * and queued QoS 1 messages persist in {@code dir/data} across {@link #stop()}/{@link #start()}.
 */
public final class EmbeddedBroker implements Broker {
    private final Path dir;
    private final int port;
    private final Optional<BrokerSecurity> security;
    private EmbeddedHiveMQ hive;

    private EmbeddedBroker(Path dir, int port, Optional<BrokerSecurity> security) {
        this.dir = dir;
        this.port = port;
        this.security = security;
    }

    /**
     * The TLS listener of a secured broker.
     *
     * @param key the broker's private key
     * @param chain the broker's certificate (SANs naming 127.0.0.1), then any intermediates
     * @param trusted the CA certificates whose client certificates are accepted (the EdgeFleet CA)
     * @param revocations asked for every connecting client's certificate
     */
    public record Tls(PrivateKey key, List<X509Certificate> chain, List<X509Certificate> trusted, RevocationCheck revocations) {
        public Tls {
            chain = List.copyOf(chain);
            trusted = List.copyOf(trusted);
        }
    }

    /** Starts a broker listening on {@code 127.0.0.1:port} with its folders under {@code dir}. */
    public static EmbeddedBroker start(Path dir, int port) {
        return start(dir, port, "<tcp-listener><port>" + port + "</port><bind-address>127.0.0.1</bind-address></tcp-listener>",
                Optional.empty());
    }

    /**
     * Starts a secured broker: one TLS listener on {@code 127.0.0.1:port} that requires a client
     * certificate from {@code tls.trusted()}, and {@link BrokerSecurity} deciding who connects and
     * what each identity may publish and subscribe to ({@link io.edgefleet.protocols.topics.TopicRights}).
     * The key and trust stores (PKCS#12, a random password in the 0600 config file) lie in {@code dir/conf}.
     */
    public static EmbeddedBroker startSecured(Path dir, int port, Tls tls) {
        try {
            Files.createDirectories(dir.resolve("conf"));
            String password = new java.math.BigInteger(130, new java.security.SecureRandom()).toString(32);
            Path keystore = dir.resolve("conf/broker-key.p12").toAbsolutePath();
            Path truststore = dir.resolve("conf/broker-trust.p12").toAbsolutePath();
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("broker", tls.key(), password.toCharArray(), tls.chain().toArray(Certificate[]::new));
            KeyStore ts = KeyStore.getInstance("PKCS12");
            ts.load(null, null);
            for (int i = 0; i < tls.trusted().size(); i++) {
                ts.setCertificateEntry("ca-" + i, tls.trusted().get(i));
            }
            store(ks, keystore, password);
            store(ts, truststore, password);
            String listener = """
                    <tls-tcp-listener>
                          <port>%d</port>
                          <bind-address>127.0.0.1</bind-address>
                          <tls>
                            <keystore><path>%s</path><password>%s</password><private-key-password>%s</private-key-password></keystore>
                            <truststore><path>%s</path><password>%s</password></truststore>
                            <client-authentication-mode>REQUIRED</client-authentication-mode>
                          </tls>
                        </tls-tcp-listener>""".formatted(port, keystore, password, password, truststore, password);
            return start(dir, port, listener, Optional.of(new BrokerSecurity(tls.revocations())));
        } catch (java.io.IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot write the broker's key store: " + e.getMessage(), e);
        }
    }

    private static void store(KeyStore ks, Path file, String password) throws java.io.IOException, java.security.GeneralSecurityException {
        try (var out = Files.newOutputStream(file)) {
            ks.store(out, password.toCharArray());
        }
        restrict(file);
    }

    private static void restrict(Path file) throws java.io.IOException {
        try {
            Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system
        }
    }

    private static EmbeddedBroker start(Path dir, int port, String listener, Optional<BrokerSecurity> security) {
        EmbeddedBroker b = new EmbeddedBroker(dir, port, security);
        try {
            Files.createDirectories(dir.resolve("conf"));
            Files.createDirectories(dir.resolve("data"));
            Files.createDirectories(dir.resolve("extensions"));
            Files.writeString(dir.resolve("conf/config.xml"), """
                    <?xml version="1.0"?>
                    <hivemq>
                      <listeners>
                        %s
                      </listeners>
                      <mqtt>
                        <!-- Paho 1.2.5 resends in-flight PUBLISHes after a reconnect with the old connection's
                             topic alias; the broker then drops the client (0x94) on every attempt -->
                        <topic-alias><enabled>false</enabled></topic-alias>
                      </mqtt>
                      <anonymous-usage-statistics><enabled>false</enabled></anonymous-usage-statistics>
                    </hivemq>
                    """.formatted(listener));
            restrict(dir.resolve("conf/config.xml"));
            // HiveMQ resets Logback from its config folder: the application's own configuration goes there.
            try (var in = EmbeddedBroker.class.getResourceAsStream("/edgefleet-logback.xml")) {
                if (in != null) {
                    Files.write(dir.resolve("conf/logback.xml"), in.readAllBytes());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        b.start();
        return b;
    }

    @Override
    public String url() {
        return (security.isPresent() ? "ssl://" : "tcp://") + "127.0.0.1:" + port;
    }

    /** Disconnects a revoked identity's sessions; present for a broker started with {@link #startSecured}. */
    public Optional<BrokerRevocation> revocation() {
        return security.map(s -> s);
    }

    @Override
    public String describe() {
        return "embedded HiveMQ CE (in this JVM) on 127.0.0.1:" + port + (security.isPresent() ? ", TLS with client certificates" : "");
    }

    @Override
    public synchronized void start() {
        if (hive != null) {
            return;
        }
        var builder = EmbeddedHiveMQ.builder()
                .withConfigurationFolder(dir.resolve("conf"))
                .withDataFolder(dir.resolve("data"))
                .withExtensionsFolder(dir.resolve("extensions"));
        security.ifPresent(s -> builder.withEmbeddedExtension(EmbeddedExtension.builder()
                .withId("edgefleet-security").withName("EdgeFleet broker security").withVersion("1")
                .withPriority(1000).withStartPriority(1000).withExtensionMain(s).build()));
        EmbeddedHiveMQ h = builder.build();
        try {
            h.start().join();
        } catch (RuntimeException e) {
            try {
                h.close();
            } catch (Exception ignored) {
                // the start failure is the news
            }
            throw new IllegalStateException("the embedded MQTT broker did not start on port " + port + ": " + e.getMessage(), e);
        }
        hive = h;
        // HiveMQ's start routes java.util.logging into Logback (jul-to-slf4j): our records keep EdgeFleet's one format
        io.edgefleet.transport.logging.LogSetup.reapply();
    }

    @Override
    public synchronized void stop() {
        if (hive == null) {
            return;
        }
        try {
            hive.stop().join();
            hive.close();
        } catch (Exception e) {
            throw new IllegalStateException("stopping the embedded MQTT broker: " + e.getMessage(), e);
        } finally {
            hive = null;
        }
    }

    @Override
    public void close() {
        stop();
    }
}
