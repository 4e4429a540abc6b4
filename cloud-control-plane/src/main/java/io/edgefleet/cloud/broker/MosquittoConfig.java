package io.edgefleet.cloud.broker;

import io.edgefleet.transport.pki.CertificateAuthority;
import io.edgefleet.transport.pki.Csr;
import io.edgefleet.transport.pki.Identity;
import io.edgefleet.transport.pki.KeyPairs;
import io.edgefleet.transport.pki.Pem;
import io.edgefleet.transport.pki.TlsContexts;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import javax.net.ssl.SSLContext;

/**
 * Writes a secured Mosquitto 2.0 broker configuration from the EdgeFleet CA: TLS with client
 * certificates required and the certificate's CN as the user name (no anonymous clients, no
 * passwords), a CRL, and the dynamic-security plugin holding each identity's rights (from
 * {@link io.edgefleet.protocols.topics.TopicRights}). Also issues the control plane's
 * {@code broker-admin} certificate, with which {@link DynamicSecurity} grants and revokes at runtime.
 *
 * <p>Files written to the broker folder: {@code mosquitto.conf}, {@code ca.pem},
 * {@code server.pem}, {@code server-key.pem} (0600), {@code crl.pem}, {@code dynsec.json}. The
 * broker must be able to write {@code dynsec.json} (the plugin saves every change to it).
 * Stateless; any thread.
 */
public final class MosquittoConfig {
    /** Where Debian and Ubuntu install the plugin. */
    public static final Path DEBIAN_PLUGIN = Path.of("/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so");
    /** The identity (certificate CN) of the control plane's broker administration session. */
    public static final String ADMIN = DynsecJson.ADMIN;
    /** File names of the admin identity in the control plane's {@code pki/} folder. */
    public static final String ADMIN_CERT = "broker-admin.pem";
    public static final String ADMIN_KEY = "broker-admin-key.pem";

    /** The services of the control plane that connect to the broker: always granted. */
    public static final List<Identity> SERVICES = List.of(
            Identity.service(io.edgefleet.protocols.topics.TopicRights.CONTROL),
            Identity.service(io.edgefleet.protocols.topics.TopicRights.INGEST));

    /**
     * What to generate.
     *
     * @param bindAddress the listener's address, e.g. {@code 0.0.0.0} or {@code 127.0.0.1}
     * @param port the TLS listener's port (8883 by convention)
     * @param hosts the names and addresses clients reach the broker by: the server certificate's SANs
     * @param deployDir where the files will lie on the broker host (absolute), named in {@code mosquitto.conf}
     * @param plugin the path of {@code mosquitto_dynamic_security.so} on the broker host
     * @param serverValidity how long the broker's certificate is valid
     */
    public record Settings(String bindAddress, int port, List<String> hosts, Path deployDir, Path plugin, Duration serverValidity) {
        public Settings {
            Objects.requireNonNull(bindAddress, "bindAddress");
            hosts = List.copyOf(hosts);
            if (hosts.isEmpty()) {
                throw new IllegalArgumentException("the broker certificate needs at least one host name or address");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port must be 1..65535, got " + port);
            }
            if (!deployDir.isAbsolute()) {
                throw new IllegalArgumentException("deployDir must be absolute (Mosquitto resolves paths from its working directory): " + deployDir);
            }
        }

        /** A listener on {@code bindAddress:port} with the files in {@code dir}, Debian's plugin, a one-year certificate. */
        public static Settings of(String bindAddress, int port, List<String> hosts, Path dir) {
            return new Settings(bindAddress, port, hosts, dir.toAbsolutePath(), DEBIAN_PLUGIN, Duration.ofDays(365));
        }
    }

    private MosquittoConfig() {
    }

    /**
     * Writes the broker folder {@code out}: {@link #writeSecurityFiles} and {@code mosquitto.conf}.
     * Every file is replaced.
     */
    public static void write(Path out, CertificateAuthority ca, Settings settings, Collection<Identity> identities,
            Map<BigInteger, Instant> revoked) {
        writeSecurityFiles(out, ca, settings.hosts(), settings.serverValidity(), identities, revoked);
        Pem.writePublic(out.resolve("mosquitto.conf"), conf(settings));
    }

    /**
     * Writes the files {@link #securityLines} names into {@code out}: the CA certificate, a new broker
     * key (0600) and certificate for {@code hosts} (its SANs), the CRL listing {@code revoked} (serial
     * number to revocation time), and the plugin configuration granting the admin, the control
     * plane's services and {@code identities} (e.g. the devices registered so far; later ones come
     * through {@link DynamicSecurity#grant}).
     */
    public static void writeSecurityFiles(Path out, CertificateAuthority ca, List<String> hosts, Duration validity,
            Collection<Identity> identities, Map<BigInteger, Instant> revoked) {
        KeyPair serverKeys = KeyPairs.ecP256();
        X509Certificate server = ca.issueServer(serverKeys.getPublic(), Identity.service("mqtt-broker"), hosts, validity);
        Pem.writePublic(out.resolve("ca.pem"), Pem.write(ca.certificate()));
        Pem.writePrivate(out.resolve("server-key.pem"), Pem.write(serverKeys.getPrivate()));
        Pem.writePublic(out.resolve("server.pem"), Pem.write(server));
        writeCrl(out, ca.crl(revoked, Duration.ofDays(30)));
        LinkedHashSet<Identity> all = new LinkedHashSet<>(SERVICES);
        all.addAll(identities);
        Pem.writePublic(out.resolve("dynsec.json"), DynsecJson.config(new ArrayList<>(all)));
    }

    /**
     * Replaces the CRL file {@code dir/crl.pem}. Mosquitto 2.0.11 reads it again on SIGHUP (checked):
     * from then on a handshake with a revoked certificate fails; sessions already open stay open,
     * which is why {@link DynamicSecurity#revoke} also disconnects them.
     */
    public static void writeCrl(Path dir, X509CRL crl) {
        Pem.writePublic(dir.resolve("crl.pem"), Pem.write(crl));
    }

    /** The whole {@code mosquitto.conf}: {@link #securityLines} plus persistence and logging. */
    public static String conf(Settings s) {
        Path d = s.deployDir();
        return "# EdgeFleet MQTT broker, generated by `edgefleet broker mosquitto-config`: regenerate rather than edit.\n"
                + securityLines(s.bindAddress(), s.port(), d, s.plugin())
                + "persistence true\n"
                + "persistence_location " + d + "/\n"
                + "log_dest stderr\n"
                + "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n";
    }

    /**
     * The listener and security lines alone, for a broker whose other settings are given elsewhere
     * (tests, an operator's own file): one TLS listener, client certificates required, the
     * certificate's CN as user name, no anonymous clients, the CRL, and the dynamic-security plugin.
     */
    public static String securityLines(String bindAddress, int port, Path dir, Path plugin) {
        return "per_listener_settings false\n"
                + "allow_anonymous false\n"
                + "listener " + port + " " + bindAddress + "\n"
                + "cafile " + dir.resolve("ca.pem") + "\n"
                + "certfile " + dir.resolve("server.pem") + "\n"
                + "keyfile " + dir.resolve("server-key.pem") + "\n"
                + "crlfile " + dir.resolve("crl.pem") + "\n"
                + "require_certificate true\n"
                + "use_identity_as_username true\n"
                + "plugin " + plugin + "\n"
                + "plugin_opt_config_file " + dir.resolve("dynsec.json") + "\n";
    }

    /**
     * Issues the control plane's {@code broker-admin} client certificate and writes it with its key
     * (0600) to {@code pkiDir}; the key is made here and stays on this machine.
     */
    public static void writeAdmin(Path pkiDir, CertificateAuthority ca, Duration validity) {
        KeyPair keys = KeyPairs.ecP256();
        Identity admin = Identity.service(ADMIN);
        X509Certificate cert = ca.issue(Csr.create(keys, admin), admin, validity);
        Pem.writePrivate(pkiDir.resolve(ADMIN_KEY), Pem.write(keys.getPrivate()));
        Pem.writePublic(pkiDir.resolve(ADMIN_CERT), Pem.write(cert));
    }

    /** The TLS context of the admin session, from the files {@link #writeAdmin} and the CA wrote to {@code pkiDir}. */
    public static SSLContext adminTls(Path pkiDir) {
        List<X509Certificate> chain = Pem.certificates(Pem.read(pkiDir.resolve(ADMIN_CERT)));
        return TlsContexts.of(Pem.privateKey(Pem.read(pkiDir.resolve(ADMIN_KEY))), chain,
                Pem.certificates(Pem.read(pkiDir.resolve("ca.pem"))));
    }
}
