package io.edgefleet.cloud.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.cloud.broker.CertClients.Client;
import io.edgefleet.cloud.broker.CertClients.Issued;
import io.edgefleet.testkit.Mosquitto;
import io.edgefleet.testkit.MosquittoBroker;
import io.edgefleet.transport.pki.CertificateAuthority;
import io.edgefleet.transport.pki.Identity;
import io.edgefleet.transport.pki.TlsContexts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The generated Mosquitto configuration on a real mosquitto 2.0 with the dynamic-security plugin:
 * who gets in, what each identity may publish and subscribe to, and revocation.
 */
class MosquittoSecurityTest {
    static final int NOT_AUTHORIZED = 0x87;
    static final Identity A = Identity.device("plant-1", "cam-a");
    static final Identity B = Identity.device("plant-1", "cam-b");
    static final Identity CONTROL = Identity.service("cloud-control");
    static final Identity INGEST = Identity.service("cloud-ingest");

    static CertificateAuthority ca;
    static MosquittoBroker broker;
    static String url;
    static Path pki;
    static DynamicSecurity dynsec;
    static final List<Client> clients = new ArrayList<>();

    @BeforeAll
    static void startBroker(@TempDir Path tmp) throws Exception {
        ca = CertificateAuthority.create("test-ca", Duration.ofDays(1));
        pki = Files.createDirectories(tmp.resolve("pki"));
        ca.save(pki);
        MosquittoConfig.writeAdmin(pki, ca, Duration.ofHours(1));
        broker = Mosquitto.startSecured(
                (port, dir) -> MosquittoConfig.securityLines("127.0.0.1", port, dir, MosquittoConfig.DEBIAN_PLUGIN),
                dir -> MosquittoConfig.writeSecurityFiles(dir, ca, List.of("127.0.0.1", "localhost"), Duration.ofHours(1),
                        List.of(A, B), Map.of()));
        url = "ssl://127.0.0.1:" + broker.port();
        dynsec = BrokerAdminSettings.of(url).open(pki);
    }

    @AfterAll
    static void stopBroker() {
        clients.forEach(Client::close);
        if (dynsec != null) {
            dynsec.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    static Client connect(Identity who) throws MqttException {
        Client c = new Client(url, CertClients.issue(ca, who, ca).tls());
        clients.add(c);
        return c;
    }

    @Test
    void admin_settings_refuse_a_plain_url_and_a_crl_refresh_without_a_reload_command() {
        assertThatThrownBy(() -> BrokerAdminSettings.of("tcp://127.0.0.1:1883")).hasMessageContaining("ssl://");
        assertThatThrownBy(() -> BrokerAdminSettings.of(url).withCrlRefresh(broker.folder(), List.of()))
                .hasMessageContaining("reload-command");
    }

    @Test
    void a_client_without_a_certificate_is_refused() {
        assertThatThrownBy(() -> new Client(url, TlsContexts.trusting(List.of(ca.certificate())))).isInstanceOf(MqttException.class);
        assertThat(broker.isRunning()).isTrue();
    }

    @Test
    void a_certificate_from_another_ca_is_refused_even_naming_a_known_device() {
        CertificateAuthority other = CertificateAuthority.create("other-ca", Duration.ofDays(1));
        Issued forged = CertClients.issue(other, A, ca);
        assertThatThrownBy(() -> new Client(url, forged.tls())).isInstanceOf(MqttException.class);
    }

    @Test
    void a_device_publishes_its_own_topics_and_the_services_receive_them() throws Exception {
        Client control = connect(CONTROL);
        Client ingest = connect(INGEST);
        assertThat(control.subscribe("ef/v1/+/cam-a/state")).isLessThan(0x80); // other tests leave retained states of other devices
        assertThat(control.subscribe("ef/v1/+/+/cmd/ack")).isLessThan(0x80);
        assertThat(ingest.subscribe("$share/ingest/ef/v1/+/+/telemetry")).isLessThan(0x80);
        Client a = connect(A);

        assertThat(a.publish("ef/v1/plant-1/cam-a/state", "s", true)).isLessThan(0x80);
        assertThat(control.next(10)).isEqualTo("ef/v1/plant-1/cam-a/state s");
        assertThat(a.publish("ef/v1/plant-1/cam-a/cmd/ack", "k", false)).isLessThan(0x80);
        assertThat(control.next(10)).isEqualTo("ef/v1/plant-1/cam-a/cmd/ack k");
        assertThat(a.publish("ef/v1/plant-1/cam-a/telemetry", "t", false)).isLessThan(0x80);
        assertThat(ingest.next(10)).isEqualTo("ef/v1/plant-1/cam-a/telemetry t");
    }

    @Test
    void a_device_cannot_publish_as_another_nor_any_command_and_no_watcher_receives_the_forgery() throws Exception {
        Client control = connect(CONTROL);
        Client ingest = connect(INGEST);
        Client b = connect(B);
        control.subscribe("ef/v1/+/+/cmd/ack");
        ingest.subscribe("ef/v1/+/+/telemetry");
        assertThat(b.subscribe("ef/v1/plant-1/cam-b/cmd")).isLessThan(0x80);
        Client a = connect(A);

        // Mosquitto 2.0.11 answers a denied QoS 1 PUBLISH from an MQTT 5 client with PUBACK 0x87 and drops it
        assertThat(a.publish("ef/v1/plant-1/cam-b/state", "forged", true)).isEqualTo(NOT_AUTHORIZED);
        assertThat(a.publish("ef/v1/plant-1/cam-b/telemetry", "forged", false)).isEqualTo(NOT_AUTHORIZED);
        assertThat(a.publish("ef/v1/plant-1/cam-b/cmd/ack", "forged", false)).isEqualTo(NOT_AUTHORIZED);
        assertThat(a.publish("ef/v1/plant-1/cam-b/cmd", "forged", false)).isEqualTo(NOT_AUTHORIZED);
        assertThat(a.publish("ef/v1/plant-1/cam-a/cmd", "forged", false)).isEqualTo(NOT_AUTHORIZED);
        assertThat(a.publish("ef/v1/plant-2/cam-b/telemetry", "forged", false)).isEqualTo(NOT_AUTHORIZED);

        // messages published after the refusals arrive; the refused ones came before them on the same paths or never
        Client realB = b;
        assertThat(realB.publish("ef/v1/plant-1/cam-b/state", "real", true)).isLessThan(0x80);
        assertThat(realB.publish("ef/v1/plant-1/cam-b/cmd/ack", "real", false)).isLessThan(0x80);
        assertThat(realB.publish("ef/v1/plant-1/cam-b/telemetry", "real", false)).isLessThan(0x80);
        assertThat(control.publish("ef/v1/plant-1/cam-b/cmd", "real", false)).isLessThan(0x80);
        assertThat(control.next(10)).isEqualTo("ef/v1/plant-1/cam-b/cmd/ack real");
        // the forged retained state was not kept: a state subscriber arriving now gets the real one only
        assertThat(control.subscribe("ef/v1/plant-1/cam-b/state")).isLessThan(0x80);
        assertThat(control.next(10)).isEqualTo("ef/v1/plant-1/cam-b/state real");
        assertThat(ingest.next(10)).isEqualTo("ef/v1/plant-1/cam-b/telemetry real");
        assertThat(b.next(10)).isEqualTo("ef/v1/plant-1/cam-b/cmd real");
        assertThat(control.received).isEmpty();
        assertThat(ingest.received).isEmpty();
        assertThat(b.received).isEmpty();
    }

    @Test
    void a_device_cannot_subscribe_to_another_devices_commands_or_replies_nor_widely() throws Exception {
        Client a = connect(A);
        for (String f : List.of("ef/v1/plant-1/cam-b/cmd", "ef/replies/plant-1/cam-b/#", "ef/v1/+/+/cmd", "ef/v1/plant-1/+/cmd", "#",
                "$SYS/#", "ef/v1/plant-1/cam-b/infer/+", "$CONTROL/dynamic-security/#")) {
            assertThat(a.subscribe(f)).as(f).isEqualTo(NOT_AUTHORIZED);
        }
        assertThat(a.subscribe("ef/v1/plant-1/cam-a/cmd")).isLessThan(0x80);
        assertThat(a.subscribe("ef/v1/plant-1/cam-a/infer/+")).isLessThan(0x80);
        assertThat(a.subscribe("ef/replies/plant-1/cam-a/#")).isLessThan(0x80);
        Client control = connect(CONTROL);
        assertThat(control.publish("ef/v1/plant-1/cam-b/cmd", "for-b", false)).isLessThan(0x80);
        assertThat(control.publish("ef/v1/plant-1/cam-a/cmd", "for-a", false)).isLessThan(0x80);
        assertThat(a.next(10)).isEqualTo("ef/v1/plant-1/cam-a/cmd for-a");
    }

    @Test
    void a_device_of_the_fleet_asks_another_agent_and_gets_the_answer_in_its_reply_space() throws Exception {
        Client agent = connect(B);
        Client requester = connect(A);
        assertThat(agent.subscribe("ef/v1/plant-1/cam-b/infer/+")).isLessThan(0x80);
        assertThat(requester.subscribe("ef/replies/plant-1/cam-a/#")).isLessThan(0x80);
        assertThat(requester.publish("ef/v1/plant-1/cam-b/infer/kws", "req", false)).isLessThan(0x80);
        assertThat(agent.next(10)).isEqualTo("ef/v1/plant-1/cam-b/infer/kws req");
        assertThat(agent.publish("ef/replies/plant-1/cam-a/1", "ans", false)).isLessThan(0x80);
        assertThat(requester.next(10)).isEqualTo("ef/replies/plant-1/cam-a/1 ans");
        assertThat(agent.publish("ef/replies/plant-2/cam-x/1", "ans", false)).isEqualTo(NOT_AUTHORIZED);
        assertThat(agent.publish("ef/v1/plant-1/cam-a/cmd", "ans", false)).isEqualTo(NOT_AUTHORIZED);
    }

    @Test
    void an_enrolled_device_has_no_right_until_granted_and_its_rights_once_granted() throws Exception {
        Identity c = Identity.device("plant-2", "cam-c");
        Client before = connect(c);
        assertThat(before.publish("ef/v1/plant-2/cam-c/state", "s", true)).isEqualTo(NOT_AUTHORIZED);
        dynsec.grant(c);
        dynsec.grant(c); // idempotent
        assertThat(before.publish("ef/v1/plant-2/cam-c/state", "s", true)).isLessThan(0x80);
        assertThat(before.publish("ef/v1/plant-1/cam-a/state", "s", true)).isEqualTo(NOT_AUTHORIZED);
    }

    @Test
    void a_revoked_device_is_disconnected_at_once_and_its_certificate_refused_after_the_crl_reload() throws Exception {
        Identity d = Identity.device("plant-3", "cam-d");
        dynsec.grant(d);
        Issued cert = CertClients.issue(ca, d, ca);
        Client connected = new Client(url, cert.tls());
        clients.add(connected);
        assertThat(connected.subscribe("ef/v1/plant-3/cam-d/cmd")).isLessThan(0x80);

        dynsec.revoke(d);
        Integer reason = connected.disconnects.poll(10, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(reason).as("disconnected within 10 s; broker log:\n%s", broker.logTail()).isEqualTo(0x98);
        dynsec.revoke(d); // idempotent

        // back before the CRL was reloaded: it connects, but with no right left
        Client back = new Client(url, cert.tls());
        clients.add(back);
        assertThat(back.publish("ef/v1/plant-3/cam-d/state", "s", true)).isEqualTo(NOT_AUTHORIZED);
        back.close();

        // the whole revocation, as the control plane runs it next to the broker: plugin, CRL, reload (SIGHUP)
        var revoked = Map.of(cert.certificate().getSerialNumber(), Instant.now());
        BrokerAdminSettings.of(url).withCrlRefresh(broker.folder(), List.of("kill", "-HUP", Long.toString(pid(broker))))
                .revocation(dynsec, ca, () -> revoked).revoke(d);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        MqttException refused = null;
        while (refused == null && System.nanoTime() < deadline) {
            try {
                new Client(url, cert.tls()).close();
                Thread.sleep(100);
            } catch (MqttException e) {
                refused = e;
            }
        }
        assertThat(refused).as("the revoked certificate is refused at the handshake after the reload; log:\n%s", broker.logTail()).isNotNull();
        // another device of the same CA still gets in
        assertThat(connect(A).publish("ef/v1/plant-1/cam-a/telemetry", "t", false)).isLessThan(0x80);
    }

    /** The broker's process id, for the reload command an operator would write as {@code systemctl reload mosquitto}. */
    static long pid(MosquittoBroker broker) {
        String folder = broker.folder().toString();
        return ProcessHandle.current().children()
                .filter(p -> p.info().arguments().map(a -> String.join(" ", a).contains(folder)).orElse(false))
                .findFirst().orElseThrow(() -> new AssertionError("no mosquitto child process for " + folder)).pid();
    }
}
