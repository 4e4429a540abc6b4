package io.edgefleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cloud.broker.DynamicSecurity;
import io.edgefleet.cloud.broker.MosquittoConfig;
import io.edgefleet.testkit.Ports;
import io.edgefleet.transport.pki.CertificateAuthority;
import io.edgefleet.transport.pki.Csr;
import io.edgefleet.transport.pki.Identity;
import io.edgefleet.transport.pki.KeyPairs;
import io.edgefleet.transport.pki.TlsContexts;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code edgefleet broker mosquitto-config} writes a configuration a real mosquitto 2.0 runs as it is. */
class BrokerCommandsTest {
    @TempDir
    Path tmp;

    static int run(StringWriter out, StringWriter err, String... args) {
        return Main.run(new PrintWriter(out), new PrintWriter(err), args);
    }

    @Test
    void refuses_an_identity_that_is_not_a_device() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertThat(run(out, err, "broker", "mosquitto-config", "--out", tmp.resolve("b").toString(), "--identity", "cloud-control"))
                .isEqualTo(Main.USAGE);
        assertThat(err.toString()).contains("not FLEET/DEVICE");
        assertThat(run(out, err, "broker", "mosquitto-config", "--out", tmp.resolve("b").toString(), "--identity", "a/b/c"))
                .isEqualTo(Main.USAGE);
    }

    @Test
    void the_generated_configuration_runs_on_mosquitto_and_secures_it() throws Exception {
        Path out = tmp.resolve("broker");
        Path data = tmp.resolve("cloud-data");
        int port = Ports.freePort();
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        assertThat(run(o, e, "broker", "mosquitto-config", "--out", out.toString(), "--data-dir", data.toString(), "--port",
                Integer.toString(port), "--bind", "127.0.0.1", "--host", "127.0.0.1", "--identity", "plant-1/cam-a")).as(e.toString()).isZero();
        assertThat(Files.getPosixFilePermissions(out.resolve("server-key.pem"))).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.getPosixFilePermissions(data.resolve("pki").resolve(MosquittoConfig.ADMIN_KEY)))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));
        String conf = Files.readString(out.resolve("mosquitto.conf"));
        assertThat(conf).contains("require_certificate true", "use_identity_as_username true", "allow_anonymous false", "crlfile ",
                "plugin_opt_config_file " + out.toAbsolutePath().resolve("dynsec.json"));
        if ("root".equals(System.getProperty("user.name"))) {
            // as root, mosquitto drops to user 'mosquitto', which cannot read this test's files; an operator chowns them instead
            Files.writeString(out.resolve("mosquitto.conf"), conf + "user root\n", StandardCharsets.UTF_8);
        }

        Process mosquitto = new ProcessBuilder(Files.isExecutable(Path.of("/usr/sbin/mosquitto")) ? "/usr/sbin/mosquitto" : "mosquitto", "-c", out.resolve("mosquitto.conf").toString())
                .redirectErrorStream(true).redirectOutput(tmp.resolve("mosquitto.log").toFile()).start();
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            while (!Ports.accepts(port) && System.nanoTime() < deadline && mosquitto.isAlive()) {
                Thread.sleep(25);
            }
            assertThat(Ports.accepts(port)).as(Files.readString(tmp.resolve("mosquitto.log"))).isTrue();
            String url = "ssl://127.0.0.1:" + port;
            CertificateAuthority ca = CertificateAuthority.load(data.resolve("pki"));

            // the device named on the command line has its rights; one enrolled later gets them through the admin identity
            assertThat(publishOwnState(url, ca, Identity.device("plant-1", "cam-a"))).isLessThan(0x80);
            Identity later = Identity.device("plant-1", "cam-later");
            assertThat(publishOwnState(url, ca, later)).isEqualTo(0x87);
            try (DynamicSecurity dynsec = new DynamicSecurity(url, MosquittoConfig.adminTls(data.resolve("pki")), Duration.ofSeconds(10))) {
                dynsec.grant(later);
            }
            assertThat(publishOwnState(url, ca, later)).isLessThan(0x80);
        } finally {
            mosquitto.destroy();
            mosquitto.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static int publishOwnState(String url, CertificateAuthority ca, Identity who) throws MqttException {
        KeyPair keys = KeyPairs.ecP256();
        var cert = ca.issue(Csr.create(keys, who), who, Duration.ofHours(1));
        MqttClient c = new MqttClient(url, "t-" + who.name(), new MemoryPersistence());
        MqttConnectionOptions opts = new MqttConnectionOptions();
        opts.setSocketFactory(TlsContexts.of(keys.getPrivate(), List.of(cert), List.of(ca.certificate())).getSocketFactory());
        c.connect(opts);
        try {
            var token = c.getTopic("ef/v1/" + who.commonName() + "/state").publish(new MqttMessage("s".getBytes(StandardCharsets.UTF_8), 1, true, null));
            token.waitForCompletion(10_000);
            return token.getReasonCodes()[0];
        } catch (MqttException ex) {
            return ex.getReasonCode();
        } finally {
            c.disconnect();
            c.close();
        }
    }
}
