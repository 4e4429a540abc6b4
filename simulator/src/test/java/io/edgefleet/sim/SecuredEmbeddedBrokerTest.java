package io.edgefleet.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.sim.CertClients.Client;
import io.edgefleet.sim.CertClients.Issued;
import io.edgefleet.testkit.Ports;
import io.edgefleet.transport.pki.CertificateAuthority;
import io.edgefleet.transport.pki.Identity;
import io.edgefleet.transport.pki.KeyPairs;
import io.edgefleet.transport.pki.TlsContexts;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded HiveMQ with TLS and {@link BrokerSecurity}: the key cases of the Mosquitto test, on the demo's broker. */
class SecuredEmbeddedBrokerTest {
    static final int NOT_AUTHORIZED = 0x87;
    static final Identity A = Identity.device("plant-1", "cam-a");
    static final Identity B = Identity.device("plant-1", "cam-b");
    static final Identity CONTROL = Identity.service("cloud-control");
    static final Identity INGEST = Identity.service("cloud-ingest");

    static CertificateAuthority ca;
    static EmbeddedBroker broker;
    static final Set<BigInteger> revoked = ConcurrentHashMap.newKeySet();
    static final List<Client> clients = new ArrayList<>();

    @BeforeAll
    static void startBroker(@TempDir Path dir) {
        ca = CertificateAuthority.create("test-ca", Duration.ofDays(1));
        KeyPair keys = KeyPairs.ecP256();
        var cert = ca.issueServer(keys.getPublic(), Identity.service("mqtt-broker"), List.of("127.0.0.1", "localhost"), Duration.ofHours(1));
        broker = EmbeddedBroker.startSecured(dir, Ports.freePort(), new EmbeddedBroker.Tls(keys.getPrivate(), List.of(cert),
                List.of(ca.certificate()), c -> revoked.contains(c.getSerialNumber())));
    }

    @AfterAll
    static void stopBroker() {
        clients.forEach(Client::close);
        if (broker != null) {
            broker.close();
        }
    }

    static Client connect(Identity who) throws MqttException {
        Client c = new Client(broker.url(), CertClients.issue(ca, who, ca).tls());
        clients.add(c);
        return c;
    }

    @Test
    void no_certificate_another_cas_certificate_and_a_revoked_one_are_refused() {
        assertThat(broker.url()).startsWith("ssl://");
        assertThatThrownBy(() -> new Client(broker.url(), TlsContexts.trusting(List.of(ca.certificate())))).isInstanceOf(MqttException.class);
        CertificateAuthority other = CertificateAuthority.create("other-ca", Duration.ofDays(1));
        assertThatThrownBy(() -> new Client(broker.url(), CertClients.issue(other, A, ca).tls())).isInstanceOf(MqttException.class);
        Issued gone = CertClients.issue(ca, Identity.device("plant-9", "cam-gone"), ca);
        revoked.add(gone.certificate().getSerialNumber());
        assertThatThrownBy(() -> new Client(broker.url(), gone.tls()))
                .isInstanceOfSatisfying(MqttException.class, e -> assertThat(e.getReasonCode()).isEqualTo(NOT_AUTHORIZED));
    }

    @Test
    void a_device_cannot_publish_as_another_nor_commands_and_no_watcher_receives_the_forgery() throws Exception {
        Client control = connect(CONTROL);
        Client ingest = connect(INGEST);
        Client b = connect(B);
        assertThat(control.subscribe("ef/v1/+/+/cmd/ack")).isLessThan(0x80);
        assertThat(ingest.subscribe("$share/ingest/ef/v1/+/+/telemetry")).isLessThan(0x80);
        assertThat(b.subscribe("ef/v1/plant-1/cam-b/cmd")).isLessThan(0x80);
        // HiveMQ CE 2025.4 answers a PUBLISH its authorizer refuses (QoS 1, MQTT 5) by closing the connection with
        // DISCONNECT 0x87 (Mosquitto sends PUBACK 0x87 and keeps it); Paho reports either a PUBACK 0x87 that came
        // first or the lost connection. The message is dropped either way.
        for (String topic : List.of("ef/v1/plant-1/cam-b/telemetry", "ef/v1/plant-1/cam-b/cmd/ack", "ef/v1/plant-1/cam-b/cmd",
                "ef/v1/plant-1/cam-a/cmd", "ef/v1/plant-1/cam-b/state")) {
            Client a = connect(A);
            try {
                assertThat(a.publish(topic, "forged", topic.endsWith("state"))).as(topic).isEqualTo(NOT_AUTHORIZED);
            } catch (MqttException e) {
                assertThat(a.paho.isConnected()).as(topic).isFalse();
            }
            assertThat(a.disconnects.poll(10, TimeUnit.SECONDS)).as(topic).isEqualTo(NOT_AUTHORIZED);
        }

        assertThat(b.publish("ef/v1/plant-1/cam-b/cmd/ack", "real", false)).isLessThan(0x80);
        assertThat(b.publish("ef/v1/plant-1/cam-b/telemetry", "real", false)).isLessThan(0x80);
        assertThat(b.publish("ef/v1/plant-1/cam-b/state", "real", true)).isLessThan(0x80);
        assertThat(control.publish("ef/v1/plant-1/cam-b/cmd", "real", false)).isLessThan(0x80);
        assertThat(control.next(10)).isEqualTo("ef/v1/plant-1/cam-b/cmd/ack real");
        assertThat(ingest.next(10)).isEqualTo("ef/v1/plant-1/cam-b/telemetry real");
        assertThat(b.next(10)).isEqualTo("ef/v1/plant-1/cam-b/cmd real");
        assertThat(control.subscribe("ef/v1/plant-1/cam-b/state")).isLessThan(0x80);
        assertThat(control.next(10)).isEqualTo("ef/v1/plant-1/cam-b/state real");
        assertThat(control.received).isEmpty();
        assertThat(ingest.received).isEmpty();
        assertThat(b.received).isEmpty();
    }

    @Test
    void a_device_cannot_subscribe_to_another_devices_commands_or_replies_nor_widely() throws Exception {
        Client a = connect(A);
        for (String f : List.of("ef/v1/plant-1/cam-b/cmd", "ef/replies/plant-1/cam-b/#", "ef/v1/+/+/cmd", "ef/v1/plant-1/+/cmd", "#",
                "$SYS/#")) {
            assertThat(a.subscribe(f)).as(f).isEqualTo(NOT_AUTHORIZED);
        }
        assertThat(a.subscribe("ef/v1/plant-1/cam-a/cmd")).isLessThan(0x80);
        assertThat(a.subscribe("ef/replies/plant-1/cam-a/#")).isLessThan(0x80);
    }

    @Test
    void a_revoked_device_is_disconnected_and_kept_out() throws Exception {
        Identity d = Identity.device("plant-3", "cam-d");
        Issued cert = CertClients.issue(ca, d, ca);
        Client connected = new Client(broker.url(), cert.tls());
        clients.add(connected);
        assertThat(connected.subscribe("ef/v1/plant-3/cam-d/cmd")).isLessThan(0x80);

        revoked.add(cert.certificate().getSerialNumber());
        broker.revocation().orElseThrow().revoke(d);
        assertThat(connected.disconnects.poll(10, TimeUnit.SECONDS)).as("disconnected within 10 s").isEqualTo(NOT_AUTHORIZED);
        assertThatThrownBy(() -> new Client(broker.url(), cert.tls())).isInstanceOf(MqttException.class);
        assertThat(connect(A).publish("ef/v1/plant-1/cam-a/telemetry", "t", false)).isLessThan(0x80);
    }
}
